"""Apache Kafka: the broker launcher (jars from Maven Central) and client settings."""
