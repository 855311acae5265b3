from socialvalue.management.commands._reference import ReferenceLoadCommand
from socialvalue.models import ReferenceKind


class Command(ReferenceLoadCommand):
    help = (
        "Match the Charity Commission register extract (publicextract.charity, text "
        "or ZIP) to the supplier register: by charity number, company number, then "
        "exact name; near matches are listed for an officer to confirm. The suppliers "
        "whose facts changed are classified again."
    )
    kind = ReferenceKind.CHARITIES
    file_help = "publicextract.charity.txt or .zip"
