"""What the pipeline as a whole counts: messages accepted, delivered and
read, and how long they waited; database connections in use."""

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)

ACCEPTED = Counter("herald_messages_accepted_total", "Messages accepted (committed), by kind and priority",
                   ["kind", "priority"])
DELIVERED = Counter("herald_messages_delivered_total",
                    "Message copies acknowledged by a recipient's device, by kind and priority", ["kind", "priority"])
READ = Counter("herald_messages_read_total", "Message copies marked read by their recipient, by kind and priority",
               ["kind", "priority"])
ACCEPT_TO_SENT = Histogram("herald_accept_to_sent_seconds",
                           "From acceptance (or the scheduled time) to a copy placed in its recipient's stream",
                           ["priority"], buckets=LATENCY_BUCKETS)
SENT_TO_DELIVERED = Histogram("herald_sent_to_delivered_seconds",
                              "From a copy placed in its recipient's stream to the device's acknowledgement",
                              ["priority"], buckets=LATENCY_BUCKETS)
DB_POOL_IN_USE = Gauge("herald_db_pool_connections_in_use", "Database connections checked out of the pool",
                       multiprocess_mode="livesum")
