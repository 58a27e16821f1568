"""Seed the checklist templates for the three topics S2 names.

Company data, so the items are stored in Chinese (zh-Hant); each names the
clause of POLICY.md it checks.
"""

from django.db import migrations

TEMPLATES = [
    ("process", "考評流程執行檢查", [
        ("每週日常考評是否按時完成（每位客服每週一次）", "E2.1"),
        ("日常考評是否附有證據（現場觀察、通話錄音或聊天記錄）", "E2.1"),
        ("日常考評是否涵蓋服務態度、業務能力及工作效率三項", "E2.1"),
        ("月度考評是否於月底前由客服主管完成並定稿", "E2.2"),
        ("月度考評是否依據日常考評記錄、客戶回饋及工作成果評定", "E2.2"),
        ("月度考評分數是否按 30／30／20／20 權重計算，滿分 100 分", "E2.2"),
        ("考評結果是否告知員工，申訴是否於期限內處理", "G3.1"),
    ]),
    ("fairness", "考評結果公平性檢查", [
        ("抽查考評分數與所附證據是否相符", "E2.1"),
        ("調整建議分數時是否填寫理由", "E2.2"),
        ("同部門各考評人的評分尺度是否一致，無明顯偏高或偏低", "E2.2"),
        ("是否存在全部給滿分等異常評分", "E2.2"),
        ("年度考評優秀比例是否未超過上限、不合格比例是否達到下限", "E2.3"),
        ("考評結果是否按規定運用於薪酬調整", "E3.1"),
        ("考評結果是否按規定運用於晉升、獎勵及培訓輔導", "E3.2"),
    ]),
    ("uniforms", "制服管理規範檢查", [
        ("採購計劃是否經公司領導審批，並向合格供應商詢價比價", "U1.2"),
        ("到貨是否按合同進行數量、款式、顏色及質量驗收", "U1.2"),
        ("新入職員工是否按標準領取制服套數", "U2.1"),
        ("制服領用是否填寫《制服領用申請表》並經部門負責人簽字", "U2.2"),
        ("發放記錄是否齊全（姓名、部門、款式、數量、日期）", "U2.2"),
        ("員工工作時間是否按規定穿著制服並佩戴工牌、領帶或絲巾", "U3.1"),
        ("制服損壞或遺失是否報告行政部門並按規定處理賠償", "U3.2"),
        ("制服報廢是否填寫《制服報廢申請表》並經審批後統一處理", "U4.2"),
    ]),
]


def seed(apps, schema_editor):
    ChecklistTemplate = apps.get_model("inspections", "ChecklistTemplate")
    TemplateItem = apps.get_model("inspections", "TemplateItem")
    for topic, name, items in TEMPLATES:
        if ChecklistTemplate.objects.filter(topic=topic, name=name).exists():
            continue
        template = ChecklistTemplate.objects.create(topic=topic, name=name, active=True)
        TemplateItem.objects.bulk_create(
            TemplateItem(template=template, text=text, clause=clause, order=i)
            for i, (text, clause) in enumerate(items, start=1)
        )


def unseed(apps, schema_editor):
    ChecklistTemplate = apps.get_model("inspections", "ChecklistTemplate")
    ChecklistTemplate.objects.filter(name__in=[name for _topic, name, _items in TEMPLATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
