//! An invoice as a one-page A4 PDF in the standard Helvetica font (nothing embedded): the same
//! figures as its JSON, as a person and an accountant read them.

use printpdf::{BuiltinFont, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, TextItem};
use talktime_domain::tax::{Invoice, InvoiceSeries};

/// Rupees with two decimals, from paise (the standard fonts have no rupee sign: `INR`).
fn inr(paise: i64) -> String {
    format!("INR {}.{:02}", paise / 100, paise % 100)
}

/// Half of a GST rate, as CGST and SGST each are (`9.00%` of 18).
fn percent(hundredths: i32) -> String {
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// The lines of the invoice, top to bottom.
fn lines(i: &Invoice) -> Vec<(bool, String)> {
    let title = match i.series {
        InvoiceSeries::Invoice => "TAX INVOICE",
        InvoiceSeries::CreditNote => "CREDIT NOTE",
    };
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let half = i.rate_hundredths / 2;
    vec![
        (true, title.to_owned()),
        (false, format!("Number: {}", i.number)),
        (false, format!("Date: {}", i.issued_at.format("%Y-%m-%d"))),
        (false, String::new()),
        (true, format!("Seller: {}", or_dash(&i.operator_legal_name))),
        (false, format!("Address: {}", or_dash(&i.operator_address))),
        (false, format!("GSTIN: {}, state code: {}", or_dash(&i.operator_gstin), or_dash(&i.operator_state))),
        (false, String::new()),
        (true, format!("Buyer: {}", or_dash(&i.buyer_name))),
        (false, format!("GSTIN: {}, state code: {}", or_dash(&i.buyer_gstin), or_dash(&i.buyer_state))),
        (false, String::new()),
        (false, format!("{} coins (SAC {})", i.coins, i.sac_code)),
        (false, format!("Taxable value: {}", inr(i.taxable_paise))),
        (false, format!("CGST {}: {}", percent(half), inr(i.cgst_paise))),
        (false, format!("SGST {}: {}", percent(i.rate_hundredths - half), inr(i.sgst_paise))),
        (false, format!("IGST {}: {}", percent(i.rate_hundredths), inr(i.igst_paise))),
        (true, format!("Total: {}", inr(i.total_paise))),
    ]
}

/// The PDF's bytes.
pub fn render(invoice: &Invoice) -> Vec<u8> {
    let mut ops = vec![Op::StartTextSection, Op::SetTextCursor { pos: Point::new(Mm(20.0), Mm(270.0)) }];
    for (bold, text) in lines(invoice) {
        let font = if bold { BuiltinFont::HelveticaBold } else { BuiltinFont::Helvetica };
        ops.push(Op::SetFont { font: PdfFontHandle::Builtin(font), size: Pt(11.0) });
        ops.push(Op::SetLineHeight { lh: Pt(16.0) });
        ops.push(Op::ShowText { items: vec![TextItem::Text(text)] });
        ops.push(Op::AddLineBreak);
    }
    ops.push(Op::EndTextSection);
    let page = PdfPage::new(Mm(210.0), Mm(297.0), ops);
    PdfDocument::new(&invoice.number).with_pages(vec![page]).save(&PdfSaveOptions::default(), &mut Vec::new())
}
