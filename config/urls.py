from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from councils import accounts


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says."""
    return redirect(static("localspend/favicon.svg"), permanent=True)


def superusers_only(request) -> bool:
    """The Django admin knows nothing of council roles: a staff account given
    model permissions could edit any council's records there (audit). Only
    LocalSpend's own administrators, superusers, may use it; everyone else works
    through the council pages, where each write checks the council role."""
    return request.user.is_active and request.user.is_superuser


admin.site.site_header = "LocalSpend administration"
admin.site.site_title = "LocalSpend admin"
admin.site.has_permission = superusers_only

urlpatterns = [
    path("favicon.ico", favicon),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", accounts.SignOutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        accounts.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_changed.html"
        ),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("", include("councils.urls")),
    path("c/<slug:council_slug>/", include("spend.urls")),
    path("c/<slug:council_slug>/", include("procure.urls")),
    path("c/<slug:council_slug>/", include("socialvalue.urls")),
]
