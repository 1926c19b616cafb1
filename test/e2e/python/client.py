#!/usr/bin/env python3
"""A python-socketio client (Debian's python3-socketio: Engine.IO v4, Socket.IO v5) driven by
test/e2e/python.test.ts. Usage: client.py <url> <polling|websocket|polling+upgrade> <room>.

Prints one JSON object per line for each step; the test reads them, and sends the room broadcast
(from a socket.io-client 4.x) once it sees {"step": "joined"}. Exits non-zero on any failure."""
import json
import sys
import threading

import socketio

TIMEOUT = 10


def say(**fields):
    print(json.dumps(fields), flush=True)


def plain(value):
    """JSON-printable form of an event argument (bytes as a list of ints)."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": list(value)}
    return value


def main():
    url, mode, room = sys.argv[1:4]
    transports = {"polling": ["polling"], "websocket": ["websocket"], "polling+upgrade": None}[mode]
    sio = socketio.Client(reconnection=False)
    news = threading.Event()
    disconnected = threading.Event()

    @sio.on("news")
    def on_news(*args):
        say(step="news", args=[plain(arg) for arg in args])
        news.set()

    @sio.on("question")
    def on_question(question):
        return {"heard": question}  # the server's emitWithAck gets this

    @sio.on("disconnect")
    def on_disconnect():
        disconnected.set()

    # Which Engine.IO transports the connect went through (polling+upgrade: polling, then the
    # upgrade to websocket, which python-engineio does before connect() returns).
    used = []
    for name in ("polling", "websocket"):
        original = getattr(sio.eio, "_connect_" + name)
        setattr(sio.eio, "_connect_" + name, lambda *a, _o=original, _n=name, **k: used.append(_n) or _o(*a, **k))

    sio.connect(url, transports=transports, wait_timeout=TIMEOUT)
    say(step="connected", sid=sio.get_sid(), transport=sio.transport(), used=used)
    echoed = sio.call("echo", {"text": "héllo"}, timeout=TIMEOUT)
    echoed_bytes = sio.call("echo", b"\x01\x02\xff", timeout=TIMEOUT)
    say(step="echo", json=echoed, binary=plain(echoed_bytes))
    say(step="ask", reply=sio.call("ask", "why?", timeout=TIMEOUT))
    sio.call("join", room, timeout=TIMEOUT)
    say(step="joined")
    if not news.wait(TIMEOUT):
        say(step="error", message="no room broadcast")
        sys.exit(1)
    say(step="transport", transport=sio.transport())
    sio.disconnect()
    say(step="disconnected", event=disconnected.wait(TIMEOUT))


if __name__ == "__main__":
    main()
