"""Single-file Django app with async views, served through ASGI (test_django_async.py)."""
import asyncio

from django.conf import settings

settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="hud-test",
                   MIDDLEWARE=[], INSTALLED_APPS=[], LOGGING_CONFIG=None)

from django.core.asgi import get_asgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


async def fetch_article(year):
    await asyncio.sleep(0)
    return {"year": year}


def score(article):
    return article["year"] % 7


async def load_comments(year):
    await asyncio.sleep(0.001)
    return [c for c in range(year % 3)]


async def article(request, year):
    data = await fetch_article(year)  # @site-article-fetch
    data["score"] = score(data)  # @site-article-score
    data["comments"] = await load_comments(year)  # @site-article-comments
    return JsonResponse(data)


async def broken(request):
    await fetch_article(0)  # @site-broken-fetch
    raise KeyError("broken")


urlpatterns = [path("articles/<int:year>/", article), path("broken/", broken)]
application = get_asgi_application()
