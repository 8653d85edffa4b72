from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from pacts import feeds
from pacts.views import (
    agreements,
    calendar,
    dashboard,
    events,
    expectations,
    exports,
    health,
    history,
    network,
    parties,
    profile,
    sources,
    timeline,
    worklist,
)

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("agreements/", agreements.agreement_list, name="agreement-list"),
    path("agreements/new/", agreements.agreement_new, name="agreement-new"),
    path("agreements/<slug:slug>/", timeline.timeline, name="timeline"),
    path("agreements/<slug:slug>/edit/", agreements.agreement_edit, name="agreement-edit"),
    path("agreements/<slug:slug>/history/", history.agreement_history, name="agreement-history"),
    path(
        "agreements/<slug:slug>/history/<str:record>/<int:history_id>/restore/",
        history.history_restore,
        name="history-restore",
    ),
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
    path("export/agreements.json", exports.export_agreements, name="export-agreements"),
    path("export/events.csv", exports.export_events, name="export-events"),
    # Dashboard, expectations, worklist (routes below this line)
    path("expectations/", expectations.expectations, name="expectations"),
    path("worklist/", worklist.worklist, name="worklist"),
    # Parties and network (routes below this line)
    path("parties/<str:code>/", parties.party, name="party"),
    path("network/", network.network, name="network"),
    # Sources, feeds, calendar, profile (routes below this line)
    path("sources/", sources.source_list, name="source-list"),
    path("sources/<slug:key>/", sources.source_detail, name="source-detail"),  # after sources/search/
    path("sources/<slug:key>/edit/", sources.source_edit, name="source-edit"),
    path("sources/<slug:key>/merge/", sources.source_merge, name="source-merge"),
    path("sources/<slug:key>/versions/", sources.source_versions, name="source-versions"),
    path("feeds/latest.atom", feeds.latest_atom, name="latest-atom"),
    path("feeds/latest.rss", feeds.latest_rss, name="latest-rss"),
    path("agreements/feed.atom", feeds.saved_search_feed, name="saved-search-feed"),
    path("agreements/<slug:slug>/feed.atom", feeds.agreement_feed, name="agreement-feed"),
    path("agreements/<slug:slug>/calendar.ics", calendar.agreement_calendar, name="agreement-calendar"),
    path("parties/<str:code>/feed.atom", feeds.party_feed, name="party-feed"),
    path("accounts/profile/", profile.profile, name="profile"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("pacts/favicon.svg"), permanent=True)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
