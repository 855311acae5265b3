from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says."""
    return redirect(static("localspend/favicon.svg"), permanent=True)


admin.site.site_header = "LocalSpend administration"
admin.site.site_title = "LocalSpend admin"

urlpatterns = [
    path("favicon.ico", favicon),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("councils.urls")),
    path("c/<slug:council_slug>/", include("spend.urls")),
    path("c/<slug:council_slug>/", include("procure.urls")),
    path("c/<slug:council_slug>/", include("socialvalue.urls")),
]
