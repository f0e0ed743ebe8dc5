"""The JSON API: request and response models, and the routes that serve them."""
