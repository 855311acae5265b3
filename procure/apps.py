from django.apps import AppConfig
from django.db.models.signals import post_delete, pre_delete


class ProcureConfig(AppConfig):
    name = "procure"
    verbose_name = "Suppliers and contracts"

    def ready(self) -> None:
        from procure.linking import contract_deleted, contract_deleting

        contract = self.get_model("Contract")
        pre_delete.connect(
            contract_deleting, sender=contract, dispatch_uid="procure.contract_deleting"
        )
        post_delete.connect(
            contract_deleted, sender=contract, dispatch_uid="procure.contract_deleted"
        )
