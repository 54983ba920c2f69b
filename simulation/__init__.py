"""Simulators of the systems the warehouse cannot reach from a test machine.

``ids`` fixes how the simulated network names its channels and videos, so the
YouTube API simulator and the event traffic simulator describe one network.
``network`` is the seeded model of that network day by day, and ``youtube``
serves it as the YouTube Data API v3 on loopback (``ytempire simulate youtube``),
held to the client's discovery documents (``discovery``). Beside it on the same
server, ``owner_apis`` serves the channel owner's APIs (Reporting, Analytics,
OAuth) from ``owner_model``: what the owner sees of the same network.
"""
