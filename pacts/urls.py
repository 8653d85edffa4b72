from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from pacts.views import agreements, health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="agreement-list"), name="dashboard"),
    path("agreements/", agreements.agreement_list, name="agreement-list"),
    path("agreements/<slug:slug>/", agreements.timeline, name="timeline"),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("pacts/favicon.svg"), permanent=True)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
