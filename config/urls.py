from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "LocalSpend administration"
admin.site.site_title = "LocalSpend admin"

urlpatterns = [
    path(
        "favicon.ico",
        login_not_required(RedirectView.as_view(url=static("localspend/favicon.svg"))),
    ),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("councils.urls")),
    path("c/<slug:council_slug>/", include("spend.urls")),
    path("c/<slug:council_slug>/", include("procure.urls")),
    path("c/<slug:council_slug>/", include("socialvalue.urls")),
]
