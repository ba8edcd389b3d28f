"""Infrastructure: settings, event-store wiring, personal-data store, city data."""
