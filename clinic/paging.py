"""Pagination for lists that can match a large part of the clinic."""

from functools import cached_property

from django.core.paginator import Paginator


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`), so a broad search ("smi" at
    100,000 patients matches thousands) costs the same to count whatever the clinic's size. Past the cap the list
    offers the first `cap` rows in pages and `capped` says to narrow the search; a search that narrow is what
    the desk wants anyway."""

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _bounded_count(self) -> int:
        # Without ORDER BY: sorted, the subquery would read and sort every match before its LIMIT.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self._bounded_count > self.cap

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)
