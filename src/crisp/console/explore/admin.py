# Explore keeps no models: what it shows lives in storage, and grants in accounts.
