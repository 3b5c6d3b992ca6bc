"""Wire protocols Crisp accepts, each turning request bodies into a ``PointBatch``."""
