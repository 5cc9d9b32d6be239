"""The HTTP edge: blueprints parse requests, call domain services, and render JSON."""
