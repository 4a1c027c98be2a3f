from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Treatment plans"

    def ready(self):
        import plans.selectors.scheduling  # noqa: F401  (registers the dashboard panel)
        import plans.selectors.visits  # noqa: F401  (registers the open adverse events dashboard panel)
