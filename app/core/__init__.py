"""The training state that the page and the JSON API share: a session's recipe, data, trainer, loss curve and
rewind points. It imports the engine and the datasets, never the API, the page or the views."""
