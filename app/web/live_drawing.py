"""What draws a live room's events with the page's templates, handed to app/live by app/main.py (app/live imports
nothing of the web layer)."""
from .live_publisher import Publisher
from .live_render import event_html, expired_html

__all__ = ["Publisher", "event_html", "expired_html"]
