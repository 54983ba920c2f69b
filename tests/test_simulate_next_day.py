"""``ytempire simulate next-day`` sends the next day of the stream already begun (pure checks).

Sending a stream's days one at a time must equal sending them at once; a new
stream started on the day (``simulate events --from D --to D``) lacks the
updates of the videos published before it, which is why the raw checks failed it.
"""

from __future__ import annotations

from datetime import timedelta

from simulation.network import Network
from simulation.traffic import network_events, stream_day_events, tracked_since


def test_the_next_day_equals_that_day_of_the_stream_sent_at_once() -> None:
    network = Network(channels=20)
    first = tracked_since(network, network.epoch, 10)
    day = network.epoch + timedelta(days=2)
    at_once = {event_id for *_, event_id in network_events(network, first, day)}
    before = {event_id for *_, event_id in network_events(network, first, day - timedelta(1))}
    one_day = [event_id for *_, event_id in stream_day_events(network, day, first)]
    assert set(one_day) == at_once - before
    assert len(one_day) == len(set(one_day))


def test_a_new_stream_on_the_day_lacks_the_earlier_videos_updates() -> None:
    network = Network(channels=20)
    first = tracked_since(network, network.epoch, 10)
    day = network.epoch + timedelta(days=2)
    continued = list(stream_day_events(network, day, first))
    restarted = list(network_events(network, day, day))
    assert len(restarted) < 0.9 * len(continued)
