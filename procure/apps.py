from django.apps import AppConfig


class ProcureConfig(AppConfig):
    name = "procure"
    verbose_name = "Suppliers and contracts"
