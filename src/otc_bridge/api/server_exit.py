"""Whether the uvicorn server running this process has been told to stop.

uvicorn (0.55) waits for every open connection to end before it runs the application's
shutdown, and does not tell a streaming response that it is stopping: an event stream
that never ends would hold a graceful shutdown forever. Its signal handler is a bound
method of its `Server`, whose `should_exit` is the first sign of a stop; the stream hub
checks it on every poll and ends the streams. (Newer uvicorn sends `http.disconnect` to
streaming responses instead: Kludex/uvicorn#2829.) A server run in a thread installs no
signal handler; whoever runs it calls `api.streams.stop_streams(app)` first.
"""

from __future__ import annotations

import signal


def uvicorn_should_exit() -> bool:
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
