"""View models: turn sessions and traces into plain drawing data (coordinates, widths, colours, labels)."""
