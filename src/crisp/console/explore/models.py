# Explore keeps no models: metrics live in storage, reached through explore.backend.
