from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from pacts.views import agreements, events, health, timeline

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="agreement-list"), name="dashboard"),
    path("agreements/", agreements.agreement_list, name="agreement-list"),
    path("agreements/new/", agreements.agreement_new, name="agreement-new"),
    path("agreements/<slug:slug>/", timeline.timeline, name="timeline"),
    path("agreements/<slug:slug>/edit/", agreements.agreement_edit, name="agreement-edit"),
    path("agreements/<slug:slug>/events/new/", events.event_new, name="event-new"),
    path("agreements/<slug:slug>/events/<int:pk>/edit/", events.event_edit, name="event-edit"),
    path("agreements/<slug:slug>/events/<int:pk>/delete/", events.event_delete, name="event-delete"),
    path("agreements/<slug:slug>/events/<int:pk>/met/", events.event_met, name="event-met"),
    path("agreements/<slug:slug>/events/<int:pk>/postpone/", events.event_postpone, name="event-postpone"),
    path("agreements/<slug:slug>/events/<int:pk>/citations/", events.event_citations, name="event-citations"),
    path("agreements/<slug:slug>/events/<int:pk>/citations/new/", events.citation_new, name="citation-new"),
    path(
        "agreements/<slug:slug>/events/<int:pk>/citations/<int:citation_pk>/delete/",
        events.citation_delete,
        name="citation-delete",
    ),
    path("sources/search/", events.source_search, name="source-search"),
    # Browse: list, search, exports (routes below this line)
    # Dashboard, expectations, worklist (routes below this line)
    # Parties and network (routes below this line)
    # Sources, feeds, calendar, profile (routes below this line)
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("pacts/favicon.svg"), permanent=True)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
