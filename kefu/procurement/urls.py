from django.urls import path

from kefu.procurement import views

app_name = "procurement"
urlpatterns = [
    path("", views.home, name="home"),
    # suppliers
    path("suppliers/", views.suppliers, name="suppliers"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<str:code>/", views.supplier_detail, name="supplier_detail"),
    path("suppliers/<str:code>/edit/", views.supplier_edit, name="supplier_edit"),
    path("suppliers/<str:code>/status/", views.supplier_status, name="supplier_status"),
    path("suppliers/<str:code>/contacts/", views.contact_add, name="contact_add"),
    path("suppliers/<str:code>/certificates/new/", views.certificate_add, name="certificate_add"),
    path("contacts/<int:pk>/remove/", views.contact_remove, name="contact_remove"),
    path("certificates/<int:pk>/scan", views.certificate_scan, name="certificate_scan"),
    path("certificates/<int:pk>/withdraw/", views.certificate_withdraw, name="certificate_withdraw"),
    # purchase plans
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_create, name="plan_create"),
    path("plans/<str:number>/", views.plan_detail, name="plan_detail"),
    path("plans/<str:number>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<str:number>/lines/<int:pk>/", views.plan_line_edit, name="plan_line_edit"),
    path("plans/<str:number>/lines/<int:pk>/remove/", views.plan_line_remove, name="plan_line_remove"),
    path("plans/<str:number>/propose/", views.plan_propose, name="plan_propose"),
    path("plans/<str:number>/submit/", views.plan_submit, name="plan_submit"),
    path("plans/<str:number>/decide/", views.plan_decide, name="plan_decide"),
    path("plans/<str:number>/budget/", views.plan_budget, name="plan_budget"),
    path("plans/<str:number>/rfq/", views.rfq_create, name="rfq_create"),
    # quotations
    path("rfqs/", views.rfqs, name="rfqs"),
    path("rfqs/<str:number>/", views.rfq_detail, name="rfq_detail"),
    path("rfqs/<str:number>/invite/", views.rfq_invite, name="rfq_invite"),
    path("rfqs/<str:number>/quotes/<str:code>/", views.quote_record, name="quote_record"),
    path("rfqs/<str:number>/next-round/", views.rfq_next_round, name="rfq_next_round"),
    path("rfqs/<str:number>/compare/", views.rfq_compare, name="rfq_compare"),
    path("awards/<int:pk>/decide/", views.award_decide, name="award_decide"),
    # purchase orders, receipts, supplier issues
    path("orders/", views.orders, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("orders/<str:number>/edit/", views.order_edit, name="order_edit"),
    path("orders/<str:number>/issue/", views.order_issue, name="order_issue"),
    path("orders/<str:number>/pdf", views.order_pdf, name="order_pdf"),
    path("orders/<str:number>/receive/", views.receipt_create, name="receipt_create"),
    path("receipts/", views.receipts, name="receipts"),
    path("receipts/<str:number>/", views.receipt_detail, name="receipt_detail"),
    path("receipts/<str:number>/post/", views.receipt_post, name="receipt_post"),
    path("receipts/<str:number>/discard/", views.receipt_discard, name="receipt_discard"),
    path("issues/", views.issues, name="issues"),
    path("issues/<str:number>/", views.issue_detail, name="issue_detail"),
    path("issues/<str:number>/remedy/", views.issue_kind, name="issue_kind"),
    path("issues/<str:number>/close/", views.issue_close, name="issue_close"),
]
