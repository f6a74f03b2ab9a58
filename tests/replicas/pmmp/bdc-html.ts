/**
 * The /bdc/ (purchase orders) results page. Cards copy samples/pmmp/html/bdc-result-cards.snippet.html
 * with the classes public scrapers of the live page select on (`.entreprise__rightSubCard--top`,
 * `span.font-bold` values, `[data-bs-toggle="tooltip"]` object, the `div.mt-4.py-3.content__subBox`
 * container, `.content__resultat` "Nombre de résultats : N", a "Suivant" link). The page around
 * the cards was never captured: it is a plain Bootstrap page with the search form's fields.
 */
import { frDateTime } from './clock';
import { type BdcResult } from './model';
import { esc, escAttr, frAmount } from './text';

export interface BdcPageView {
  total: number;
  page: number;
  pageSize: number;
  cards: BdcResult[];
  /** Query of the current page without `page`, to build the pager links. */
  baseQuery: string;
  path: string;
  shapeChanged?: boolean;
}

function card(r: BdcResult, cardClass: string): string {
  const right =
    r.outcome === 'infructueux'
      ? `  <div class="entreprise__rightSubCard--top"><span>Avis d'achat infructueux</span></div>`
      : `  <div class="entreprise__rightSubCard--top">
   <span>Nombre de devis reçus : <span class="font-bold">${r.bidCount ?? 0}</span></span>
   <span>Entreprise attributaire  : <span class="font-bold">${esc(r.winner ?? '')}</span></span>
   <span>Montant TTC : <span class="font-bold">${frAmount(r.amountCents ?? 0)} MAD</span></span>
  </div>`;
  return `<div class="${cardClass}">
 <div class="entreprise__leftSubCard"><span>BDC</span></div>
 <div class="entreprise__middleSubCard">
  <div class="font-bold table__links">Référence : ${esc(r.reference)}</div>
  <div class="truncate_fullWidth table__links" data-bs-toggle="tooltip" data-bs-title="${escAttr(r.object)}">
   <span class="font-bold">Objet :</span> ${esc(r.object)}</div>
  <div class="table__links"><span>Acheteur :</span> ${esc(r.buyer)}</div>
  <div class="table__links"><span>Date de publication du résultat :</span> ${frDateTime(r.published)}</div>
 </div>
 <div class="entreprise__rightSubCard">
${right}
 </div>
</div>`;
}

export function bdcResultsPage(v: BdcPageView): string {
  const pageCount = Math.max(1, Math.ceil(v.total / v.pageSize));
  const link = (p: number, label: string) =>
    `<li class="page-item"><a class="page-link" href="${escAttr(`${v.path}?${v.baseQuery}${v.baseQuery ? '&' : ''}page=${p}`)}">${label}</a></li>`;
  const pager = [
    v.page > 1 ? link(v.page - 1, 'Précédent') : '',
    `<li class="page-item active"><span class="page-link">${v.page}</span></li>`,
    v.page < pageCount ? link(v.page + 1, 'Suivant') : '',
  ].join('\n    ');
  const cardClass = v.shapeChanged ? 'entreprise__item' : 'entreprise__card';
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="UTF-8">
<title>Résultats des bons de commande - Portail marocain des marchés publics</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<main class="container">
 <h1 class="title">Résultats des avis d'achat</h1>
 <form name="search_consultation_resultats" method="get" action="${escAttr(v.path)}">
  <input type="text" id="search_consultation_resultats_keyword" name="search_consultation_resultats[keyword]">
  <input type="text" id="search_consultation_resultats_reference" name="search_consultation_resultats[reference]">
  <input type="text" id="search_consultation_resultats_objet" name="search_consultation_resultats[objet]">
  <input type="date" id="search_consultation_resultats_dateLimitePublicationStart" name="search_consultation_resultats[dateLimitePublicationStart]">
  <input type="date" id="search_consultation_resultats_dateLimitePublicationEnd" name="search_consultation_resultats[dateLimitePublicationEnd]">
  <select id="search_consultation_resultats_categorie" name="search_consultation_resultats[categorie]"><option value=""></option><option value="1">Travaux</option><option value="2">Fournitures</option><option value="3">Services</option></select>
  <select id="search_consultation_resultats_naturePrestation" name="search_consultation_resultats[naturePrestation]"><option value=""></option><option value="1">Travaux</option><option value="2">Fournitures</option><option value="3">Services</option></select>
  <select id="search_consultation_resultats_pageSize" name="search_consultation_resultats[pageSize]"><option value="10">10</option><option value="20">20</option><option value="30">30</option><option value="50">50</option></select>
  <button type="submit" class="btn btn-primary">Rechercher</button>
 </form>
 <div class="content__resultat">Nombre de résultats : <span class="font-bold">${v.total}</span></div>
 <div class="mt-4 py-3 content__subBox">
${v.cards.map((r) => card(r, cardClass)).join('\n')}
 </div>
 <nav aria-label="pagination"><ul class="pagination">
    ${pager}
 </ul></nav>
</main>
</body>
</html>`;
}
