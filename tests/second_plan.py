"""A small second plan (another number, another year) in the seed's text format: two axes,
three tasks, owed by agencies Plan 916 knows (Sở Y tế owes quarterly tasks in both)."""

from __future__ import annotations

NUMBER = "25/KH-UBND"

_HEADER = "STT\tNội dung\tNhiệm vụ cụ thể\tTrách nhiệm cụ thể\t\tThời gian thực hiện\tGhi chú\n" \
          "\t\t\tĐơn vị chủ trì\tĐơn vị phối hợp\t\t\n"


def second_plan(number: str = NUMBER, *, lead: str = "Sở Y tế") -> bytes:
    """The document's bytes: quarterly tasks for Sở Y tế and Sở Tài chính (``lead``: who leads
    task 1.1, e.g. with an agency that owes 916's 1.1 too)."""
    head, tail = number.split("/", 1)
    text = (
        "# KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2027\n\n"
        f"Ban hành kèm theo Kế hoạch số {head} /{tail} ngày 10 tháng 01 năm 2027 "
        "của Ủy ban nhân dân tỉnh)\n\n"
        + _HEADER +
        "<b>Trực nội dung: Cải cách thể chế</b>\t\t\t\t\t\t\n"
        f"1\tVăn bản quy phạm\tRà soát văn bản quy phạm pháp luật của tỉnh\t{lead}\t\t"
        "Định kỳ hàng quý\t\n"
        "2\tKiểm tra\tKiểm tra việc thi hành văn bản\tSở Tài chính\t\tĐịnh kỳ hàng quý\t\n"
        "<b>Trực nội dung: Cải cách thủ tục hành chính</b>\t\t\t\t\t\t\n"
        "1\tThủ tục\tCông bố thủ tục hành chính mới\tSở Y tế; Sở Tài chính\t\t"
        "Định kỳ hàng quý\t\n")
    return text.encode("utf-8")
