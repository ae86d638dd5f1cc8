from django.urls import re_path

from karbor_horizon.checkpoints import views

urlpatterns = [
    re_path(r'^$', views.first_provider, name='index'),
    re_path(r'^(?P<provider_id>[^/]+)/$', views.IndexView.as_view(),
            name='provider'),
    re_path(r'^(?P<provider_id>[^/]+)/(?P<checkpoint_id>[^/]+)/$',
            views.DetailView.as_view(), name='detail'),
    re_path(r'^(?P<provider_id>[^/]+)/(?P<checkpoint_id>[^/]+)/restore/$',
            views.RestoreView.as_view(), name='restore'),
]
