from socialvalue.management.commands._reference import ReferenceLoadCommand
from socialvalue.models import ReferenceKind


class Command(ReferenceLoadCommand):
    help = (
        "Match Companies House basic company data (BasicCompanyData CSV, or its ZIP) "
        "to the supplier register: by company number, then exact name; near matches "
        "are listed for an officer to confirm. The suppliers whose facts changed are "
        "classified again."
    )
    kind = ReferenceKind.COMPANIES_HOUSE
    file_help = "BasicCompanyDataAsOneFile-….csv or .zip"
