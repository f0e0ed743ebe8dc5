"""The `backprop-playground` command: `backprop-playground serve` runs the app under uvicorn."""
import argparse
import os

from app.settings import Settings

STORE_SCHEMES = ("sqlite:///", "redis://", "rediss://")


def default_store() -> str:
    """PLAYGROUND_STORE if set, else the settings' default. Read without building Settings, so that a
    malformed PLAYGROUND_* variable cannot break --help (the app reports it when it starts)."""
    return os.environ.get("PLAYGROUND_STORE") or Settings.model_fields["store"].default


def store_error(store: str) -> str | None:
    """Why `store` cannot work, or None."""
    if not store.startswith(STORE_SCHEMES) or store in STORE_SCHEMES:
        return (f"--store {store!r}: expected sqlite:///relative/path, sqlite:////absolute/path "
                f"or redis://host:port/db (rediss:// for TLS)")
    return None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command's parser and its `serve` subparser."""
    p = argparse.ArgumentParser(
        prog="backprop-playground",
        description="Backprop Playground: train a small neural network one step at a time "
                    "and inspect every value backpropagation computes.",
        epilog="Settings come from PLAYGROUND_* environment variables (see docs/operations.md, Settings).",
    )
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve", help="serve the playground over HTTP",
        description="Serve the playground with uvicorn (app.main:app). Sessions are kept in the store: "
                    "SQLite for the workers of one host (on a local disk), Redis for several hosts.",
        epilog="X-Forwarded-For/-Proto are trusted only from FORWARDED_ALLOW_IPS "
               "(uvicorn's default: 127.0.0.1,::1); set it to your reverse proxy's address.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 for every interface")
    serve.add_argument("--port", type=int, default=8000, help="TCP port")
    serve.add_argument("--store", default=default_store(),
                       help="session store: sqlite:///relative/path (from the working directory), "
                            "sqlite:////absolute/path, or redis://host:port/db; PLAYGROUND_STORE sets the default")
    serve.add_argument("--workers", type=positive_int, default=1,
                       help="server processes; with SQLite they share the file on this host (a local disk, not NFS)")
    return p, serve


SHUTDOWN_SECONDS = 3


def main(argv: list[str] | None = None) -> None:
    p, serve = parser()
    args = p.parse_args(argv)
    if error := store_error(args.store):
        serve.error(error)  # usage, one line "backprop-playground serve: error: ...", exit code 2
    os.environ["PLAYGROUND_STORE"] = args.store  # uvicorn's worker processes inherit it

    import uvicorn

    # A live room's event streams never finish by themselves: on shutdown, uvicorn waits this long for them, then
    # closes them (their browsers reconnect to the restarted server and resume).
    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers,
                timeout_graceful_shutdown=SHUTDOWN_SECONDS)


if __name__ == "__main__":
    main()
