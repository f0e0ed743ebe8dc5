"""Live rooms (issue 16): a presenter's session that followers watch, with polls about the coming step."""
import asyncio

from .hub import Hub
from .service import Live
from .storage import open_rooms


def open_live(store, url: str, ttl: float, drawing, max_followers_per_address: int = 400, streams=None) -> Live:
    """The live rooms beside the session store at `url`, fanning out on the running event loop; every release of a
    presenting session's lock publishes its followers' frame. `drawing` is what draws the events, which the page's
    templates do (app/main.py passes app/web's): its `Publisher`, `event_html` and `expired_html`."""
    Publisher, event_html, expired_html = drawing.Publisher, drawing.event_html, drawing.expired_html  # noqa: N806
    rooms = open_rooms(url)
    hub = Hub(rooms)
    hub.start(asyncio.get_running_loop())
    publisher = Publisher(store, rooms, hub)
    store.on_acquire, store.on_release = publisher.on_acquire, publisher.on_release
    live = Live(store, rooms, hub, publisher, event_html, lambda code: expired_html(live, code), ttl,
                max_followers_per_address=max_followers_per_address, streams=streams)
    publisher.live = live
    live.watcher = asyncio.get_running_loop().create_task(live.watch())
    return live


async def close_live(live: Live) -> None:
    live.watcher.cancel()
    live.store.on_acquire = live.store.on_release = None
    await asyncio.to_thread(live.publisher.close)  # it may wait for a flush, which must not hold up the loop
    live.close()
    await live.hub.stop()
    live.rooms.close()
