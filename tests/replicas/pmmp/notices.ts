/**
 * Text of the generated notice PDFs. The wording and layout follow the real notices of
 * samples/pmmp/pdf/ (pv-f884eb9f.pdf "EXTRAIT DE PROCES VERBAL … Concurrent retenu",
 * resultat-215aec79.pdf and resultat-e53cb45d.pdf "RESULTATS DEFINITIFS … Concurrent retenu |
 * Montant de l'offre retenue") so the award extraction reads them as it reads the portal's.
 */
import { frDate, frTime, instantOf } from './clock';
import { type Consultation, type ConsultationDetails, type Notice, type PortalModel } from './model';
import { renderPdf, type PdfLine } from './pdf';
import { frAmount } from './text';
import { PROCEDURES } from './vocab';

// Amounts are typed with non-breaking spaces, as in the real notices (samples/pmmp README): a long
// line wraps before or after an amount, never inside it.
const money = (cents: number | null): string => (cents === null ? '-' : `${frAmount(cents, '\u00a0')} DH TTC`);
const when = (lm: number): string => `${frDate(lm)} à ${frTime(lm).replace(':', 'h')}`;

function header(c: Consultation): PdfLine[] {
  return [
    { text: 'ROYAUME DU MAROC', bold: true },
    { text: c.buyer.full.split(' - ').slice(1).join(' - ') || c.buyer.full },
  ];
}

function procedureTitle(c: Consultation): string {
  return (PROCEDURES[c.procedure]?.label ?? "Appel d'offres ouvert").replace(/^Appel d'offres/, "Appel d'offres");
}

function pvLines(c: Consultation, d: ConsultationDetails): PdfLine[] {
  const lines: PdfLine[] = [
    ...header(c),
    { text: 'EXTRAIT DE PROCES VERBAL', size: 14, bold: true, x: 180, gap: 18 },
    { text: `${procedureTitle(c)} N° ${c.reference}`, bold: true, x: 120 },
    { text: `OBJET : ${c.object}`, gap: 12 },
    { text: `Maître d'ouvrage : ${c.buyer.name}` },
    { text: `Date d'ouverture des plis : ${when(d.openingAt)}` },
    { text: `Lieu d'ouverture des plis : ${c.buyer.opening.split(/ - T[ÉEé]L|Tél/i)[0]?.trim() ?? ''}` },
  ];
  for (const award of d.awards) {
    if (d.lots.length) lines.push({ text: `Lot n° ${award.lotNumber} : ${d.lots[award.lotNumber - 1]?.title ?? ''}`, bold: true, gap: 12 });
    const deposited = award.bids.map((b) => b.name);
    lines.push({ text: 'Liste des concurrents ayant déposé leurs plis :', bold: true, gap: 8 });
    lines.push(...(deposited.length ? deposited.map((name) => ({ text: `- ${name}`, x: 72 })) : [{ text: 'NEANT', x: 72 }]));
    const ecartes = award.bids.filter((b) => b.status === 'ecarte');
    lines.push({ text: "Liste des concurrents écartés à l'issue de l'examen des dossiers administratif et technique :", bold: true, gap: 6 });
    lines.push(...(ecartes.length ? ecartes.map((b) => ({ text: `- ${b.name}`, x: 72 })) : [{ text: 'NEANT', x: 72 }]));
    const priced = award.bids.filter((b) => b.amountCents !== null);
    if (priced.length) {
      lines.push({ text: "Montant des actes d'engagement des concurrents :", bold: true, gap: 6 });
      lines.push({ text: 'CONCURRENTS                                   MONTANTS DES ACTES D’ENGAGEMENT', x: 72 });
      for (const b of priced) lines.push({ text: `${b.name}    ${money(b.amountCents)}`, x: 72 });
    }
    if (award.status === 'attribue') {
      lines.push({ text: 'Concurrent retenu :', bold: true, gap: 6 });
      lines.push({ text: `${award.winner ?? ''}    ${money(award.amountCents)}`, x: 72 });
    } else if (award.reason === 'offres jugées excessives') {
      lines.push({ text: "La commission déclare l'appel d'offres infructueux : offres jugées excessives.", bold: true, gap: 6 });
    } else {
      lines.push({ text: "La commission déclare l'appel d'offres infructueux.", bold: true, gap: 6 });
    }
  }
  lines.push({ text: `Fait à ${c.places[0] ?? ''}, le ${frDate(d.commissionEnd)}`, x: 300, gap: 18 });
  lines.push({ text: 'Le Président de la commission', x: 300 });
  return lines;
}

function resultatLines(c: Consultation, d: ConsultationDetails): PdfLine[] {
  const lines: PdfLine[] = [
    ...header(c),
    { text: `RESULTATS DEFINITIFS DE L'${procedureTitle(c).toUpperCase().replace(/^APPEL/, 'APPEL')}`, size: 12, bold: true, x: 110, gap: 18 },
    { text: `N° : ${c.reference}`, bold: true, x: 230 },
    { text: `Maître d'ouvrage : ${c.buyer.name}.`, gap: 12 },
    { text: `Objet de l'appel d'offres : ${c.object}.` },
    { text: "Date et heure d'ouverture des plis | Date d'achèvement des travaux de la commission | Lot | Concurrent retenu | Montant de l'offre retenue", bold: true, size: 8, gap: 10 },
  ];
  for (const a of d.awards) {
    const lot = d.lots.length ? String(a.lotNumber) : '-';
    const winner = a.status === 'attribue' ? (a.winner ?? '') : 'INFRUCTUEUX';
    const amount = a.status === 'attribue' ? money(a.amountCents) : 'Infructueux';
    lines.push({ text: `${when(d.openingAt)} | ${frDate(d.commissionEnd)} | ${lot} | ${winner} | ${amount}`, size: 9 });
  }
  lines.push({ text: "Cachet du Maître d'Ouvrage        Nom et Qualité du signataire au nom du Maître d'Ouvrage", x: 90, gap: 24, size: 9 });
  return lines;
}

function achevementLines(c: Consultation, d: ConsultationDetails): PdfLine[] {
  const winners = d.awards.filter((a) => a.status === 'attribue');
  const lines: PdfLine[] = [
    ...header(c),
    { text: "RAPPORT D'ACHEVEMENT DE L'EXECUTION DU MARCHE", size: 13, bold: true, x: 120, gap: 18 },
    { text: `Référence de l'appel d'offres : ${c.reference}`, gap: 12 },
    { text: `Objet : ${c.object}` },
    { text: `Maître d'ouvrage : ${c.buyer.name}` },
    { text: `Titulaire(s) : ${winners.map((a) => a.winner).join(' ; ') || '-'}` },
    { text: `Montant initial du marché : ${money(winners.reduce((s, a) => s + (a.amountCents ?? 0), 0) || null)}` },
    { text: `Montant final du marché : ${money(d.completion?.amountCents ?? null)}` },
    { text: `Date d'achèvement : ${d.completion ? frDate(d.completion.at) : '-'}` },
  ];
  return lines;
}

/** The generated document of a notice that has no real sample PDF. */
export function noticePdf(model: PortalModel, n: Notice): Buffer {
  const c = n.cons;
  const d = model.details(c);
  const lines = n.type === 'pv' ? pvLines(c, d) : n.type === 'resultat' ? resultatLines(c, d) : achevementLines(c, d);
  return renderPdf(lines, { title: `${n.type} ${c.reference}`, created: new Date(instantOf(n.published)) });
}
