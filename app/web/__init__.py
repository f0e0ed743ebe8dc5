"""The playground page and the htmx actions that update its panels."""
