"""Operational services of the platform beside the streaming computations: the outbox relay
(producer) and the signed YouTube webhook."""
