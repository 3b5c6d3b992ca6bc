"""The web console: a Django project (pages, DRF API, admin) over a metrics backend.

Django is configured from :class:`crisp.core.settings.Settings` by
:func:`crisp.console.conf.configure`, never from a settings module that reads the
environment. Apps share one skeleton (``models``, ``api/{serializers,views,urls}``,
``views``, ``urls``, ``admin``): ``accounts`` (teams, roles, database grants, API
tokens), ``explore`` (metrics backend, structured queries, metadata) and
``dashboards``. Storage is reached only through ``explore.backend``.
"""
