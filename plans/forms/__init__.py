"""Forms per area (course, visits, scheduling, aftercare): field validation and crispy layouts only."""
