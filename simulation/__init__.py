"""Simulators of the systems the warehouse cannot reach from a test machine.

``ids`` fixes how the simulated network names its channels and videos, so the
YouTube API simulator and the event traffic simulator describe one network.
``network`` is the seeded model of that network day by day, and ``youtube``
serves it as the YouTube Data API v3 on loopback (``ytempire simulate youtube``).
"""
