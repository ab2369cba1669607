# Copyright (c) mmmrhd contributors. All rights reserved.
"""Register every ``mmmrhd`` module and set the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every ``mmmrhd`` module so that it lands in the registries.

    Args:
        init_default_scope (bool): Whether to make ``'mmmrhd'`` the current
            default scope. When another scope is current, a new instance
            with a unique name is created so that the switch is explicit.
            Defaults to True.
    """
    import mmmrhd.apis  # noqa: F401,F403
    import mmmrhd.datasets  # noqa: F401,F403
    import mmmrhd.engine  # noqa: F401,F403
    import mmmrhd.evaluation  # noqa: F401,F403
    import mmmrhd.models  # noqa: F401,F403
    import mmmrhd.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = (
        DefaultScope.get_current_instance() is None
        or not DefaultScope.check_instance_created('mmmrhd'))
    if never_created:
        DefaultScope.get_instance('mmmrhd', scope_name='mmmrhd')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmmrhd':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmmrhd", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmmrhd".')
        new_instance_name = f'mmmrhd-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmmrhd')
