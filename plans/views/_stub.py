from django.http import HttpResponse


def not_built(request, **kwargs):  # replaced as each area lands
    return HttpResponse("Not built yet", status=501)
