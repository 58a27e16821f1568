from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UniformsConfig(AppConfig):
    name = "kefu.uniforms"
    label = "uniforms"
    verbose_name = _("Uniforms")

    def ready(self) -> None:
        from kefu.core.registry import NavItem, demo_steps, nav, workbench
        from kefu.uniforms import access, demo, services, todos  # access registers the rules

        services.register_people_steps()
        nav.register(NavItem("uniforms:home", _("Uniforms"), roles=None, order=40))
        nav.register(NavItem("uniforms:stock_levels", _("Uniform stock"), roles=frozenset(access.READ_ALL), order=41))
        workbench.register(todos.low_stock)
        workbench.register(todos.leavers_to_check_in)
        workbench.register(todos.counts_to_decide)
        # 6b: requisitions, issuance, damage/loss, compensation, scrap, disposal
        workbench.register(todos.forms_to_sign)
        workbench.register(todos.uniform_admin_work)
        workbench.register(todos.my_uniform_steps)
        # Before any later demo step that needs the catalogue (uniforms activity, procurement).
        demo_steps.register("uniforms.catalogue", demo.build_catalogue_demo)
        # 6b: a year of requisitions, issues, damage reports, scrap forms and dress checks (needs the catalogue).
        from kefu.uniforms import demo_forms

        demo_steps.register("uniforms.forms", demo_forms.build_forms_demo)
