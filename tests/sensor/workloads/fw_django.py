"""Single-file Django app for the framework test (served by gunicorn)."""
from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="hud-test",
                   MIDDLEWARE=[], INSTALLED_APPS=[], LOGGING_CONFIG=None)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def summarize(year):
    return {"year": year, "articles": year % 7}


def article(request, year):
    return JsonResponse(summarize(year))


def broken(request):
    raise KeyError("broken")


urlpatterns = [path("articles/<int:year>/", article), path("broken/", broken)]
application = get_wsgi_application()
