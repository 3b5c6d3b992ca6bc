from django.urls import path, re_path

from crisp.console.alerts import views

urlpatterns = [
    path("alerts/", views.rule_list, name="alerts"),
    path("alerts/rules/<int:pk>/", views.rule_detail, name="alert-rule"),
    path("alerts/rules/new/", views.rule_edit, name="alert-rule-new"),
    path("alerts/rules/<int:pk>/edit/", views.rule_edit, name="alert-rule-edit"),
    re_path(
        r"^alerts/rules/(?P<pk>[0-9]+)/(?P<action>enable|disable|delete)/$",
        views.rule_action,
        name="alert-rule-action",
    ),
    path("alerts/history/", views.history, name="alert-history"),
    path("alerts/silences/", views.silences, name="alert-silences"),
    path("alerts/silences/<int:pk>/expire/", views.silence_expire, name="alert-silence-expire"),
    path("alerts/channels/", views.channels, name="alert-channels"),
    path("alerts/channels/new/", views.channel_edit, name="alert-channel-new"),
    path("alerts/channels/<int:pk>/edit/", views.channel_edit, name="alert-channel-edit"),
    path("alerts/notifications/", views.notifications, name="alert-notifications"),
    path("alerts/channels/<int:pk>/test/", views.channel_test, name="alert-channel-test"),
]
