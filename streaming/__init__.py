"""Real-time paths of the warehouse: Spark Structured Streaming over the Kafka event topics."""
