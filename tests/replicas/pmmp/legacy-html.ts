/**
 * Markup of the legacy (PRADO) interface.
 *
 * The page chrome (head, header, left menu, legend, footer, Prado script registrations) is cut
 * at run time out of the real capture samples/pmmp/html/legacy-results-list.html, so every page
 * carries the portal's own 200 KB of surroundings byte for byte. What changes per page is
 * written here, copied from the samples:
 *   - result rows, pager and page-size select: legacy-results-list.html;
 *   - the advanced search form: the block of legacy-advanced-search-form.excerpt.html;
 *   - the detail page's #recap-consultation and download blocks: legacy-consultation-detail.excerpt.html;
 *   - the lots popup: tests/pmmp/fixtures/lots-popup.inferred.html (inferred, no capture exists).
 */
import { readFileSync } from 'node:fs';

import { esc, escAttr } from './text';

export interface Chrome {
  head: string;
  /** Header and left menu, up to the search block; holds the `dateBandeau` call. */
  top: string;
  resultsHead: string;
  resultsTail: string;
  footer: string;
  scriptLines: string[];
  formBlock: string;
}

const chromes = new Map<string, Chrome>();

function cut(text: string, start: string, end: string, opts: { from?: number; keepEnd?: boolean; last?: boolean } = {}): string {
  const i = text.indexOf(start, opts.from ?? 0);
  if (i < 0) throw new Error(`sample marker not found: ${start}`);
  const j = opts.last ? text.lastIndexOf(end) : text.indexOf(end, i + start.length);
  if (j < 0) throw new Error(`sample marker not found: ${end}`);
  return text.slice(i, opts.keepEnd ? j + end.length : j);
}

export function loadChrome(samplesDir: string): Chrome {
  const cached = chromes.get(samplesDir);
  if (cached) return cached;
  const list = readFileSync(`${samplesDir}html/legacy-results-list.html`, 'utf8');
  const form = readFileSync(`${samplesDir}html/legacy-advanced-search-form.excerpt.html`, 'utf8');
  const head = list.slice(0, list.indexOf('<form id="ctl0_ctl2"'));
  const top = cut(list, '<script type="text/javascript" src="/assets/b925f310/clientscripts.php?js=prado,ajax"></script>', '<!--Debut Bloc Recherche avancee-->');
  const resultsHead = cut(list, '<!--Debut Bloc de Resultat-->', '<div id="ctl0_CONTENU_PAGE_resultSearch_panelElementsFound">');
  const tailStart = list.lastIndexOf('<!--Fin partitionneur-->');
  const resultsTail = cut(list, '<!--Fin partitionneur-->', '<!--Fin Bloc de Resultat-->', { from: tailStart, keepEnd: true });
  const footerFrom = list.indexOf('<!--Fin Bloc de Resultat-->') + '<!--Fin Bloc de Resultat-->'.length;
  const footer = list.slice(footerFrom, list.indexOf('<script type="text/javascript">\r\n/*<![CDATA[*/'));
  const scripts = cut(list, '/*<![CDATA[*/', '/*]]>*/');
  const scriptLines = scripts.split(/\r?\n/).slice(1).filter((l) => l.trim() !== '');
  // The excerpt's research notes (<!-- ELIDED … -->) are not part of the page.
  const formBlock = cut(form, '<!--Debut Bloc Recherche avancee-->', '<!--Fin Bloc Recherche avancee-->', { keepEnd: true }).replace(
    /<!-- ELIDED[\s\S]*?-->\s*/g,
    '',
  );
  const chrome = { head, top, resultsHead, resultsTail, footer, scriptLines, formBlock };
  chromes.set(samplesDir, chrome);
  return chrome;
}

const crlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');

export interface ShellOptions {
  formId: 'ctl0_ctl2' | 'ctl0_ctl4' | 'ctl0_ctl1';
  /** The form posts back to the URL the page was served at (PRADO). */
  action: string;
  pageState: string;
  nowEpochMs: number;
  offsetSeconds: number;
  searchBlock?: string;
  body: string;
  scripts: string[];
  /** The detail page loads the validator script too (legacy-consultation-detail.excerpt.html). */
  clientScripts?: string;
}

export function pageShell(chrome: Chrome, o: ShellOptions): string {
  const top = chrome.top
    .replace(/dateBandeau\('\d+', '-?\d+'\)/, `dateBandeau('${o.nowEpochMs}', '${o.offsetSeconds}')`)
    .replace('clientscripts.php?js=prado,ajax"', `clientscripts.php?js=${o.clientScripts ?? 'prado,ajax'}"`);
  return [
    chrome.head,
    `<form id="${o.formId}" method="post" action="${escAttr(o.action)}" name="main_form"><div style="visibility:hidden;">\r\n`,
    `<input type="hidden" name="PRADO_PAGESTATE" id="PRADO_PAGESTATE" value="${o.pageState}" />\r\n`,
    '<input type="hidden" name="PRADO_POSTBACK_TARGET" id="PRADO_POSTBACK_TARGET" value="" />\r\n',
    '<input type="hidden" name="PRADO_POSTBACK_PARAMETER" id="PRADO_POSTBACK_PARAMETER" value="" />\r\n',
    '</div>\r\n',
    top,
    '<!--Debut Bloc Recherche avancee-->\r\n\t\t',
    o.searchBlock ?? '',
    '\r\n\t\t<!--Fin Bloc Recherche avancee-->\r\n',
    o.body,
    chrome.footer,
    '<script type="text/javascript">\r\n/*<![CDATA[*/\r\n',
    o.scripts.map((l) => l.replace(/'FormID':'ctl0_ctl\d'/g, `'FormID':'${o.formId}'`)).join('\r\n'),
    '\r\n/*]]>*/\r\n</script>\r\n</form>\r\n</body>\r\n</html>',
  ].join('');
}

/** Registrations of the header and menu controls only: pages without the result table. */
export function baseScripts(chrome: Chrome): string[] {
  return chrome.scriptLines.filter((l) => /bandeauEntreprise|menuGaucheEntreprise/.test(l) && !l.startsWith('Prado.CallbackRequest'));
}

/** The result page's registrations, with the post loaders of this page's rows. */
export function listScripts(chrome: Chrome, rows: number): string[] {
  const R = 'ctl0$CONTENU_PAGE$resultSearch$';
  const loaders = [
    'ctl0$bandeauEntreprise$langages$ctl0$flagImg',
    'ctl0$bandeauEntreprise$langages$ctl1$flagImg',
    'ctl0$menuGaucheEntreprise$quickSearch',
    'ctl0$menuGaucheEntreprise$imageOk',
    `${R}fr`,
    `${R}en`,
    `${R}es`,
    `${R}listePageSizeTop`,
    `${R}numPageTop`,
    `${R}tableauResultSearch$ctl0$selectAll`,
    ...[3, 5, 7, 9, 11, 13, 15, 23].map((n) => `${R}tableauResultSearch$ctl0$ctl${n}`),
  ];
  for (let i = 1; i <= rows; i++) {
    loaders.push(`${R}tableauResultSearch$ctl${i}$refCons`, `${R}tableauResultSearch$ctl${i}$orgCons`, `${R}tableauResultSearch$ctl${i}$annonceSelection`);
  }
  loaders.push(`${R}listePageSizeBottom`, `${R}numPageBottom`);
  return chrome.scriptLines.map((l) =>
    l.startsWith('Prado.CallbackRequest.addPostLoaders(') ? `Prado.CallbackRequest.addPostLoaders([${loaders.map((n) => `'${n}'`).join(',')}]);` : l,
  );
}

// ------------------------------------------------------------------------------------------
// Result list.
// ------------------------------------------------------------------------------------------

export interface ListRow {
  org: string;
  ref: string;
  procedureCode: string;
  procedure: string;
  category: string;
  /** "Publié le", dd/mm/yyyy: the consultation's publication, or the notice's on notice lists. */
  publishedDay: string;
  reference: string;
  object: string;
  buyerName: string;
  places: string[];
  lotCount: number;
  deadlineDay: string;
  deadlineTime: string;
  picto: { src: string; text: string };
  notice: { annonceLabel: string; badge: string; badgeAlt: string; detail: string } | null;
}

export interface ListView {
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
  rows: ListRow[];
  notices: boolean;
  /** The "changed page shape" knob: the table no longer carries `table-results`. */
  shapeChanged?: boolean;
}

const PAGE_SIZES = [10, 20, 50, 100, 500];

function pageSizeSelect(name: 'Top' | 'Bottom', size: number): string {
  const options = PAGE_SIZES.map((s) => (s === size ? `<option selected="selected" value="${s}">${s}</option>` : `<option value="${s}">${s}</option>`));
  return `<select name="ctl0$CONTENU_PAGE$resultSearch$listePageSize${name}" id="ctl0_CONTENU_PAGE_resultSearch_listePageSize${name}" title="Nombre de résultats par page">\n${options.join('\n')}\n</select>`;
}

/**
 * First/previous are plain images on page 1 and next/last on the last page (observed on the
 * portal, 2026-10-02: "On page 1, first and previous are images"); otherwise PRADO link buttons.
 */
function pager(name: 'Top' | 'Bottom', page: number, pageCount: number): string {
  const buttons = [
    { n: 0, img: 'fleche-premier.gif', alt: 'Aller à la première page', on: page > 1 },
    { n: 1, img: 'fleche-precedent.gif', alt: 'Aller à la page précédente', on: page > 1 },
    { n: 2, img: 'fleche-suivant.gif', alt: 'Aller à la page suivante', on: page < pageCount },
    { n: 3, img: 'fleche-dernier.gif', alt: 'Aller à la dernière page', on: page < pageCount },
  ];
  const id = `ctl0_CONTENU_PAGE_resultSearch_Pager${name}`;
  const html = buttons.map(({ n, img, alt, on }) => {
    const image = `<img src='themes/images/${img}' alt='${alt}' title='${alt}' />`;
    return on ? `<a id="${id}_ctl${n}" href="javascript:;//${id}_ctl${n}">${image}</a>` : image;
  });
  return `<span id="${id}">${html.join('\n')}</span>`;
}

function partitioner(v: ListView, name: 'Top' | 'Bottom'): string {
  const count =
    name === 'Top'
      ? `\n                        <h3>Nombre de résultats :&nbsp;<span id="ctl0_CONTENU_PAGE_resultSearch_nombreElement">${v.total}</span></h3>`
      : '';
  return `<div class="line-partitioner">${count}
                        <div class="partitioner">
                            <div class="intitule"><strong><label for="cons_nbResultsTop">Afficher</label></strong></div>
                            ${pageSizeSelect(name, v.pageSize)}
                            <div class="intitule">résultats / page</div>
                            <label style="display:none;" for="cons_pageNumber${name}">Aller à la page</label>
                            <div id="ctl0_CONTENU_PAGE_resultSearch_panelBouttonGotoPage${name}" class="float-left">
                                <input name="ctl0$CONTENU_PAGE$resultSearch$numPage${name}" type="text" value="${v.page}" id="ctl0_CONTENU_PAGE_resultSearch_numPage${name}" title="N° de la page" />
                                <div class="nb-total ">/ <span id="ctl0_CONTENU_PAGE_resultSearch_nombrePage${name}">${v.pageCount}</span></div>
                                <input type="submit" name="ctl0$CONTENU_PAGE$resultSearch$DefaultButton${name}" value="" id="ctl0_CONTENU_PAGE_resultSearch_DefaultButton${name}" style="display:none" />
                            </div>
                            <div class="liens">
                                ${pager(name, v.page, v.pageCount)}
                            </div>
                        </div>
                    </div>`;
}

function tableHead(notices: boolean, tableClass: string): string {
  const P = 'ctl0_CONTENU_PAGE_resultSearch_tableauResultSearch_ctl0';
  const N = 'ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl0';
  const sort = (n: number, what: string) =>
    `<input type="image" name="${N}$ctl${n}" id="${P}_ctl${n}" src="themes/images/arrow-tri-off.gif" alt="Trier" title="Trier Par '${what}'" />`;
  return `<table summary="R\ufffdsultats de la recherche" class="${tableClass}">
    						<caption>Résultats de la recherche</caption>
    						<thead>
    							<tr>
    								<th class="top" colspan="5">
        								<span class="left">&nbsp;</span>
        								<span class="right">&nbsp;</span>
    								</th>
    							</tr>
    							<tr>
    							<th class="check-col" id="checkAll" abbr="Tous" style="display:none" >
                                        <input title="Tous/Aucun" id="${P}_selectAll" type="checkbox" onclick="CheckUnCheckAll(this, 'resultSearch_tableauResultSearch', 'annonceSelection');" name="${N}$selectAll" />
                                    </th>
                                    <th class="col-90" id="cons_ref" abbr="Ref">
                                        Procédure
                                        <br />
                                        
                                        Catégorie
                                        
                                        ${sort(3, 'Catégorie')}
                                        <br />
                                        
                                        Publié le
                                        
                                        ${sort(5, 'Publié le')}
                                    </th>
                                    <th class="col-450" id="cons_intitule" abbr="Intitule">
                                        
                                        Référence
                                        
                                        ${sort(7, 'Référence')}
                                        
                                        <div style="display: none;">
                                        | Contexte/Programmme
                                        
                                        ${sort(9, 'Contexte/Programmme')}
                                        </div>
                                        <br />
                                        
                                        Objet
                                        
                                        ${sort(11, 'Objet')}
                                        <br />
                                        
                                        Acheteur public
                                        
                                        ${sort(13, 'Organisme')}
                                    </th>
                                    <th class="col-90" id="cons_lieuExe" style="display:;">
    									<span style="display:${notices ? '' : 'none'};">
            								Type d'annonce
            								
            								${sort(15, "Type d'annonce")}
        									<br>
    									</span>
                                        <span>
                                            Lots
                                        </span>
                                        <br/>
                                        <span>Lieu d'exécution</span>
                                        <div class="info-clauses" style="display:none">
                                            <br/>
                                            <a href="javascript:void(0);"
                                               onmouseover="afficheBulle('infoClauses', this)"
                                               onmouseout="cacheBulle('infoClauses')"
                                               onfocus="afficheBulle('infoClauses', this)"
                                               onblur="cacheBulle('infoClauses')"
                                               class="info-suite">
                                                Clauses soc./env.
                                            </a>
                                            <div class="info-bulle" id="infoClauses">
                                                <div>
                                                    <ul>
                                                        <li>- Clauses sociales </li>
                                                        <li>- Clauses environnementales </li>
                                                        <li>- Marchés réservés à des emplois ou des ateliers protégés (EA / ESAT, art. 15 du CMP)</li>
                                                    </ul>
                                                </div>
                                            </div>
                                        </div>
                                        <br/>
                                        
                                    </th>
                                    <th class="col-60" id="cons_dateEnd" abbr="Date limite">
        								<span style="display:${notices ? 'none' : 'block'};">
        								
        									Date limite de remise des plis
        									
            								 ${sort(23, 'Date limite de remise des plis')}
        								</span>
        								<span style="display:${notices ? 'block' : 'none'};">
        									Détail
        								</span>
                                    </th>
                                    <th class="actions" id="cons_actions">Actions</th>
                                </tr>
                                </thead>`;
}

function row(r: ListRow, i: number): string {
  const C = `ctl0_CONTENU_PAGE_resultSearch_tableauResultSearch_ctl${i}`;
  const N = `ctl0$CONTENU_PAGE$resultSearch$tableauResultSearch$ctl${i}`;
  const k = i - 1;
  const object = esc(r.object);
  const longObject = r.object.length > 100;
  const [first, second] = r.places;
  const visiblePlaces = second ? `${esc(first ?? '')}<br /> ${esc(second)}<br />` : `${esc(first ?? '')}<br /><br />`;
  const lots = r.lotCount > 0;
  const n = r.notice;
  const badge = n ? `<img src="themes/images/${n.badge}" alt="${escAttr(n.badgeAlt)}" title="${escAttr(n.badgeAlt)}" />` : '';
  const b64Ref = Buffer.from(r.ref).toString('base64');
  return `                            <tr class="${i % 2 === 0 ? 'on' : ''}">
                                <td class="check-col" headers="checkAll" style="display:none" >
                                    <input type="hidden" name="${N}$refCons" id="${C}_refCons" value="${r.ref}" />
                                    <input type="hidden" name="${N}$orgCons" id="${C}_orgCons" value="${r.org}" />
                                    <input title="Sélectionner" id="${C}_annonceSelection" type="checkbox" name="${N}$annonceSelection" />
                                </td>
                                <td class="col-90" headers="cons_ref">
                                    <div class="line-info-bulle">
                                        ${esc(r.procedureCode)}
                                        <a href="javascript:void(0);"
                                           onmouseover="afficheBulle('${C}_panelBlocTypesProc', this)"
                                           onmouseout="cacheBulle('${C}_panelBlocTypesProc')"
                                           onfocus="afficheBulle('${C}_panelBlocTypesProc', this)"
                                           onblur="cacheBulle('${C}_panelBlocTypesProc')" class="info-suite">
                                            ...
                                        </a>
                                    </div>
                                    <div id="${C}_panelBlocTypesProc" class="info-bulle" onmouseover="mouseOverBulle();" onmouseout="mouseOutBulle();">
                                        <div id="identification_cons_${k}_type_procedure" >
                                            ${esc(r.procedure)}
                                        </div>
                                    </div>
                                    <div id="${C}_panelBlocCategorie">
                                        ${esc(r.category)}
                                    </div>
                                    <div>
                                        ${r.publishedDay}
                                    </div>
                                    <a target="_blank">
                                        ${badge}
                                    </a>
                                </td>
                                <td class="col-450" headers="cons_intitule">
                                    <div id="identification_cons_${k}">
                                        <div id="${C}_panelBlocIntitule" class="objet-line">
                                            <span id="${C}_reference" class="ref">${esc(r.reference)}</span>
                                            <div style="display: none;">
                                                -  
                                            </div>
                                            <span style="display:none" onmouseover="afficheBulle('${C}_infosIntitule', this)" onmouseout="cacheBulle('${C}_infosIntitule')" class="info-suite">...</span>
                                            
                                        </div>
                                        <div id="${C}_panelBlocObjet" class="objet-line">
                                            <strong>Objet : </strong>
                                            ${object} 
                                            <span style="${longObject ? '' : 'display:none'}" onmouseover="afficheBulle('${C}_infosBullesObjet', this)" onmouseout="cacheBulle('${C}_infosBullesObjet')" class="info-suite">...</span>
                                            <div id="${C}_infosBullesObjet" class="info-bulle" onmouseover="mouseOverBulle();" onmouseout="mouseOutBulle();">
                                                <div>
                                                    ${object}
                                                </div>
                                            </div>
                                        </div>
                                        <div id="${C}_panelBlocDenomination" class="objet-line">
                                            <strong>Acheteur public : </strong>
                                            ${esc(r.buyerName)}
                                        </div>
                                        
                                </td>
                                <td class="col-90" headers="cons_lieuExe" style="display:;">
                                    <div id="identification_cons_${k}_lieuxExecution">
    								<span style="display:${n ? '' : 'none'};">
	    								${n ? esc(n.annonceLabel) : ''}
                                    </span>
                                        <span>
                                            <a href="javascript:popUp('index.php?page=commun.PopUpDetailLots&orgAccronyme=${r.org}&refConsultation=${r.ref}&lang=','yes')"><img src="themes/images/picto-details.gif" style="${lots ? '' : 'display:none'}" alt="Détail des lots" title="Détail des lots" /></a>&nbsp;&nbsp;&nbsp;&nbsp;<span>${lots ? `${r.lotCount} lots` : '-'}</span>
                                        </span>
                                        <div id="${C}_panelBlocLieuxExec" style="display:;">
                                            ${visiblePlaces}
        <div class="bloc-info-bulle">
        	<a style="${second ? '' : 'display:none'}" 
        		href="javascript:void(0);" 
        		onmouseover="afficheBulle('${C}_ctl14_infosLieuExecution', this)" 
        		onmouseout="cacheBulle('${C}_ctl14_infosLieuExecution')" 
        		onfocus="afficheBulle('${C}_ctl14_infosLieuExecution', this)" 
        		onblur="cacheBulle('${C}_ctl14_infosLieuExecution')" 
        		class="info-suite">
        		...
        	</a>
        	<div id="${C}_ctl14_infosLieuExecution" class="info-bulle"><div>${esc(r.places.join(', '))}</div></div>
        </div>
                                        </div>
                                        
                                        <div id="${C}_panelBlocCodesNuts" headers="cons_codes_nuts" style="display:none;">
                                            	
   <span 
    onmouseover="afficheBulle('${C}_infosLieuExecutionLtRef', this)" 
    onmouseout="cacheBulle('${C}_infosLieuExecutionLtRef')" 
    class="info-suite" 
    title="Info-bulle">
     <span style="display:none;">...</span>
     </span>
    <div 
    id="${C}_infosLieuExecutionLtRef" 
        class="info-bulle" 
        onmouseover="mouseOverBulle();" 
        onmouseout="mouseOutBulle();"
        >
        <div>
        
        </div>
    </div>
                                        </div>
                                </td>
                                <td class="col-60" headers="cons_dateEnd" abbr="Date limite">
                                    <div style="display:${n ? 'none' : ''};">
                                        <div class="cloture-line">
                                            ${r.deadlineDay}<br>${r.deadlineTime}
                                        </div>
                                    </div>
                                    <div style="display:${n ? '' : 'none'};">
                                        <div class="cloture-line">
                                             
                                            <span style="${n ? '' : 'display:none'}" onmouseover="afficheBulle('${C}_infosObjet', this)" onmouseout="cacheBulle('${C}_infosObjet')" class="info-suite">...</span>
                                            <div id="${C}_infosObjet" class="info-bulle" onmouseover="mouseOverBulle();" onmouseout="mouseOutBulle();">
                                                <div>
                                                    ${n ? esc(n.detail) : ''}
                                                </div>
                                            </div>
                                            <!-- %#$this->DataItem->getDetailConsultation()% -->
                                        </div>
                                    </div>
                                    <img src="themes/images/${r.picto.src}" alt="${escAttr(r.picto.text)}" class="certificat" title="${escAttr(r.picto.text)}" style="display:;" />
                                    <img src="themes/images/logo-mps-small.png" alt="Cette consultation est un Marché Public Simplifié" title="Cette consultation est un Marché Public Simplifié" style="display:none;" />
                                </td>
                                <td style="display:" class="actions" headers="cons_actions">
                                    <div id="${C}_panelAction" class="actions">
                                        
                                        <a target="" href="?page=entreprise.EntrepriseDetailConsultation&refConsultation=${r.ref}&orgAcronyme=${r.org}"><img src="themes/images/picto-acces-consultation.gif" alt="Accéder à la consultation" title="Accéder à la consultation" /></a>
                                        
                                        
                                        
                                        
                                        <a href="index.php?page=commun.DiagnosticPoste&callFrom=entreprise" style="display:;"><img src="themes/images/picto-test-config.gif" alt="Tester la configuration de mon poste" title="Tester la configuration de mon poste" /></a>
                                        <!--Debut liens Partager-->
                                        
                                        <!--Fin liens Partager-->
                                        <a href="index.php?page=entreprise.EntrepriseHome&goto=%3Fpage%3Dentreprise.EntrepriseAccueilAuthentifie">
                                            <img src="themes/images/picto-ajout-cart.gif" alt="Ajouter au panier" title="Ajouter au panier" />
                                        </a>
                                        
                                </td>
                                <td style="display:none" class="actions col-panier" headers="cons_actions">
                                    <div id="${C}_ctl28">
                                        <div class="registre-line"><span class="intitule"><img src="themes/images/picto-retrait.gif" alt="Retraits" title="Registre des retraits" />:</span><a href="https://www.marchespublics.gov.ma/?page=entreprise.EntrepriseDetailsConsultation&refConsultation=${r.ref}&orgAcronyme=${r.org}&code=&retraits">0</a></div>
                                        <div class="registre-line"><span class="intitule"><img src="themes/images/picto-questions.gif" alt="Questions" title="Questions" />:</span> <a href="https://www.marchespublics.gov.ma/?page=entreprise.EntrepriseDetailsConsultation&refConsultation=${r.ref}&orgAcronyme=${r.org}&code=&questions">0</a></div>
                                        <div class="registre-line"><span class="intitule"><img src="themes/images/picto-depot.gif" alt="Dépôts" title="Dépôts" />:</span><a href="https://www.marchespublics.gov.ma/?page=entreprise.EntrepriseDetailsConsultation&refConsultation=${r.ref}&orgAcronyme=${r.org}&depots">0</a></div>
                                        <div class="registre-line"><span class="intitule"><img src="themes/images/picto-msg-echange.gif" alt="Message échangé" title="Message échangé" />:</span><a href="https://www.marchespublics.gov.ma/?page=entreprise.EntrepriseDetailsConsultation&refConsultation=${r.ref}&orgAcronyme=${r.org}&code=&echanges">0</a></div>
                                    </div>
                                    
                                    
                                    <a href="javascript:popUp('index.php?page=entreprise.popUpGestionPanier&refConsultation=${b64Ref}&orgAcronyme=${r.org}&action=suppression','yes');"><img src="themes/images/picto-remove-cart.gif" alt="Supprimer du panier" title="Supprimer du panier" /></a>
                                </td>
                                </div>
                                <!--Debut pictos BASE DCE -->
                                
                                <!-- Fin pictos BASE DCE -->
                            </tr>
                        
`;
}

/** The results block (between the search block and the footer) of a result page. */
export function listBody(chrome: Chrome, v: ListView): string {
  const tab = v.notices ? 'Annonces' : 'Annonces de consultation';
  const parts: string[] = [chrome.resultsHead];
  parts.push(
    crlf(`<div id="ctl0_CONTENU_PAGE_resultSearch_panelElementsFound">
        <!--Debut Bloc formulaire avec onglets-->
        <div id="tabNav">
            <!--Debut navigation onglets-->
            <div class="nav-onglet" id="form-nav" style="display:;">
                <div class="tab-on"><span class="border-left">&nbsp;</span>
                    <a href="#" class="tab-5item">
                        
                        ${tab}
                    </a>
                    <span class="border-right">&nbsp;</span>
                </div>
            </div>
            <!--Fin navigation onglets-->
            <!--Debut Layer 1-->
            <div class="ongletLayer">
                <div class="top"></div>
                <div class="content">
                    <!--Debut partitionneur-->
                    ${partitioner(v, 'Top')}
                    <!--Fin partitionneur-->
					<!--Debut Tableau consultations-->
					
`),
  );
  if (v.rows.length > 0) {
    parts.push(crlf(`    						${tableHead(v.notices, v.shapeChanged ? 'table-resultats' : 'table-results')}\n                        \n`));
    parts.push(crlf(v.rows.map((r, i) => row(r, i + 1)).join('')));
    parts.push('                            </table>\r\n                        \r\n');
  } else {
    parts.push(crlf(`                    <div class="bloc-message form-bloc-conf msg-info"><div class="content"><div class="message bloc-700"><span>Aucun résultat ne correspond à vos critères de recherche.</span></div></div></div>\n`));
  }
  parts.push(
    crlf(`                    <!--Fin Tableau consultations-->
                    <!--Debut partitionneur-->
                    ${partitioner(v, 'Bottom')}
                    `),
  );
  parts.push(chrome.resultsTail);
  return parts.join('');
}

// ------------------------------------------------------------------------------------------
// Advanced search form (legacy-advanced-search-form.excerpt.html).
// ------------------------------------------------------------------------------------------

export interface FormView {
  /** Posted (or default) values of the text inputs and selects, by full field name. */
  values: Record<string, string>;
  /** `annonceType` can be chosen (entry `AllAnn`); on `searchAnnCons` it is disabled at 3. */
  annonceTypeEnabled: boolean;
  /** Names of date fields whose format was rejected. */
  invalidDates: string[];
  shapeChanged?: boolean;
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function setInput(html: string, name: string, value: string): string {
  const re = new RegExp(`<input name="${regexEscape(name)}"[^>]*?/>`);
  return html.replace(re, (tag) => {
    const withoutValue = tag.replace(/ value="[^"]*"/, '');
    return withoutValue.replace(/ type="text"/, ` type="text" value="${escAttr(value)}"`);
  });
}

function setSelect(html: string, name: string, value: string, enabled?: boolean): string {
  const re = new RegExp(`(<select name="${regexEscape(name)}"[^>]*>)([\\s\\S]*?)(</select>)`);
  return html.replace(re, (_m, open: string, body: string, close: string) => {
    let o = open;
    if (enabled) o = o.replace(' disabled="disabled"', '');
    const options = body
      .replace(/ selected="selected"/g, '')
      .replace(new RegExp(`<option value="${regexEscape(value)}">`), `<option selected="selected" value="${escAttr(value)}">`);
    return `${o}${options}${close}`;
  });
}

export function searchFormBlock(chrome: Chrome, f: FormView): string {
  let html = chrome.formBlock;
  for (const [name, value] of Object.entries(f.values)) {
    if (/\$(annonceType|categorie|procedureType|classification|organismesNames)$/.test(name)) {
      html = setSelect(html, name, value, name.endsWith('$annonceType') ? f.annonceTypeEnabled : undefined);
    } else {
      html = setInput(html, name, value);
    }
  }
  for (const field of f.invalidDates) {
    const id = `ctl0_CONTENU_PAGE_AdvancedSearch_control${field.charAt(0).toUpperCase()}${field.slice(1)}`;
    html = html.replace(`id="${id}" style="display:none;color:red;"`, `id="${id}" style="color:red;"`);
  }
  // A redesigned form: same fields under another control name, so field names read from an
  // old capture no longer exist.
  if (f.shapeChanged) html = html.replace(/AdvancedSearch([$_])/g, 'RechercheAvancee$1');
  return html;
}

// ------------------------------------------------------------------------------------------
// Consultation detail (legacy-consultation-detail.excerpt.html).
// ------------------------------------------------------------------------------------------

export interface DetailView {
  org: string;
  ref: string;
  deadline: string;
  picto: { src: string; text: string };
  reference: string;
  object: string;
  buyer: string;
  annonce: string;
  procedure: string;
  passationMode: string;
  category: string;
  lotCount: number;
  places: string[];
  /** Display text; null drops the referential panel (as pages without an estimation do). */
  estimation: string | null;
  reservedSmall: string;
  domains: string[];
  withdrawal: string;
  submission: string;
  opening: string;
  planPrice: string;
  caution: string;
  qualifications: string[];
  agrements: string[];
  visits: { at: string; place: string }[];
  variant: string;
  contact: { name: string; email: string; phone: string; fax: string };
  documents: { idAvis: string; label: string }[];
  dceSize: string;
  shapeChanged?: boolean;
}

const S = 'ctl0_CONTENU_PAGE_idEntrepriseConsultationSummary';

function listOrDash(items: string[]): string {
  return items.length ? `<ul class='default-list'>${items.map((i) => `<li>${esc(i)}</li>`).join('')}<li></li></ul>` : '-';
}

export function detailBody(v: DetailView): string {
  const lots = v.lotCount > 0;
  const popup = `javascript:popUp('index.php?page=commun.PopUpDetailLots&orgAccronyme=${v.org}&refConsultation=${v.ref}&lang=','yes')`;
  const estimation =
    v.estimation === null
      ? ''
      : `
		<div id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_panelReferentielZoneText" class="line">
			<div class="intitule-240 bold"> 
				<span id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_titre">Estimation (en Dhs TTC)</span>
				<span style='display:none'>
					<span id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_etoile">*</span>
				</span>
				<span style='display:none'>
					<img src="themes/images/picto-info.gif" onmouseover="afficheBulle('infosRefrentiel_1', this)" onmouseout="cacheBulle('infosRefrentiel_1')" class="picto-info-intitule" alt="Info-bulle" title="Info-bulle" />
				</span>
				<span id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_deuxPoint">:</span>
			</div>
			<span id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_labelReferentielZoneText" class="content-bloc">${esc(v.estimation)}</span>
			<div class="">
                <span id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_ctl2" disabled="disabled" style="display:none;color:red;"><span title='Format incorrecte' class='check-invalide'><img src='themes/images/picto-check-not-ok.gif' alt='Format incorrecte' /></span></span>
				<input type="hidden" name="ctl0$CONTENU_PAGE$idEntrepriseConsultationSummary$idReferentielZoneText$RepeaterReferentielZoneText$ctl0$oldValue" id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_oldValue" value="${escAttr(v.estimation)}" />
			</div>
         	<input type="hidden" name="ctl0$CONTENU_PAGE$idEntrepriseConsultationSummary$idReferentielZoneText$RepeaterReferentielZoneText$ctl0$modeRecherche" id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_modeRecherche" value="1" />
			<input type="hidden" name="ctl0$CONTENU_PAGE$idEntrepriseConsultationSummary$idReferentielZoneText$RepeaterReferentielZoneText$ctl0$typeData" id="${S}_idReferentielZoneText_RepeaterReferentielZoneText_ctl0_typeData" value="montant" />
			<div id="infosRefrentiel_1" class="info-bulle" onmouseover="mouseOverBulle();" onmouseout="mouseOutBulle();">
				<div>@@@@</div>
			</div>
			<div class="breaker"></div>
			</div>`;
  const visits = v.visits.length
    ? `<div id="${S}_panelRepeaterVisitesLieux" class="content-bloc bloc-500">
										<ul class="default-list">
										${v.visits
                      .map(
                        (x, i) =>
                          `<li><span id="${S}_repeaterVisitesLieux_ctl${i + 1}_dateVisites">${esc(x.at)}</span>,&nbsp;<span id="${S}_repeaterVisitesLieux_ctl${i + 1}_adresseVisites">${esc(x.place)}</span></li>`,
                      )
                      .join('\n')}
										</ul>
								</div>`
    : `<div id="${S}_panelPasVisitelieu" class="content-bloc bloc-500">- </div>`;
  const documents = v.documents
    .map(
      (d) => `
														<li  style="display:block" class="picto-link">
	            											<img src="themes/images/picto-compresse.gif" alt="Télécharger l'Avis" title="Télécharger l'Avis" />
	            											<a title="${escAttr(d.label)}" href="index.php?page=entreprise.EntrepriseDownloadAvisJAL&refConsultation=${v.ref}&orgAcronyme=${v.org}&idAvis=${d.idAvis}">${esc(d.label)}</a>
                    									</li>`,
    )
    .join('');
  return crlf(`
	<div id="ctl0_CONTENU_PAGE_mainPart" class="main-part">
		<div class="breadcrumbs"><a href="#">Consultations</a>&gt; Détails</div>
		<div class="link-line">
		</div>
		<div class="link-line">
			<a id="ctl0_CONTENU_PAGE_linkRetourBas" class="bouton-retour" title="Retour aux annonces" href="index.php?page=entreprise.EntrepriseAdvancedSearch&WithCritere&searchAnnCons">Retour</a>
			<a id="ctl0_CONTENU_PAGE_linkNewSearch" class="bouton-suivant" title="Faire une nouvelle recherche" href="index.php?page=entreprise.EntrepriseAdvancedSearch&searchAnnCons">Nouvelle recherche</a>
		</div>
		<!--Debut Bloc Recap Consultation-->
		<div class="form-bloc recap-infos-consultation" id="${v.shapeChanged ? 'recap-infos' : 'recap-consultation'}">
			<div class="top"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
			<div class="content">
				<a class="title-toggle" onclick="togglePanel(this,'infosPrincipales');" href="javascript:void(0);">&nbsp;</a>
				<div class="recap-bloc">
					<div class="line">
						<div id="${S}_panelDateLimiteRemisePlis" class="float-left">
							<div class="intitule-240 bold">Date et heure limite de remise des plis : </div>
						</div>
						<div class="content-bloc"><span class="blue bold"><span id="${S}_dateHeureLimiteRemisePlis">${v.deadline}</span> <span id="${S}_libelleHeureLocalisation"> </span></span></div>
						<div class="content-bloc"><span class="blue bold"><img src="themes/images/${v.picto.src}" alt="" id="${S}_pictCertificat" class="certificat indent-10" title="${escAttr(v.picto.text)}" /></span></div>
						<div class="content-bloc"><span class="blue bold"></span></div>
						<div class="content-bloc"><span class="blue bold"></span></div>
					    <div class="breaker"></div>
					</div>
					<div class="line">
						<div class="intitule-240 bold">Référence </div>
						<div class="content-bloc bloc-500"><span id="${S}_reference">${esc(v.reference)}</span> </div>
					    <div class="breaker"></div>
					</div>
					<div class="line">
						<div class="intitule-240 bold">Objet : </div>
						<div class="content-bloc bloc-500"><span id="${S}_objet">${esc(v.object)}</span></div>
						<div class="breaker"></div>
					</div>
					<div id="infosPrincipales" style="display:none;" class="panel-toggle">
						<div class="line">
							<div class="intitule-240 bold">Acheteur public : </div>
							<div class="content-bloc bloc-500"><span id="${S}_entiteAchat">${esc(v.buyer)}</span></div>
						    <div class="breaker"></div>
						</div>
						<div class="line">
							<div class="intitule-240 bold">Type d'annonce : </div>
							<div class="content-bloc bloc-500"><span id="${S}_annonce">${esc(v.annonce)}</span></div>
						    <div class="breaker"></div>
						</div>
						<div class="line">
							<div class="intitule-240 bold">Procédure : </div>
							<div class="content-bloc bloc-500">
								<span id="${S}_typeProcedure">${esc(v.procedure)}</span>
								<span id="${S}_modePassation"> | ${esc(v.passationMode)}</span> 
							</div> 
						    <div class="breaker"></div>
						</div>
						<div class="line">
							<div class="intitule-240 bold">Catégorie principale : </div>
							<div class="content-bloc bloc-500"><span id="${S}_categoriePrincipale">${esc(v.category)}</span></div>
						    <div class="breaker"></div>
						</div>
						<div class="line">
							<div class="intitule-240 bold"> Allotissement : </div>
							<div class="content-bloc bloc-500"><span id="${S}_nbrLots">${lots ? v.lotCount : ''}</span>${lots ? `<a id="${S}_linkDetailLots" href="${popup}">Détail des lots</a>` : `<a id="${S}_linkDetailLots">-</a>`}</div>
						    <div class="breaker"></div>
						</div>
						<div class="line">
							<div class="intitule-240 bold">Lieu d'exécution : </div>
								<div class="content-bloc bloc-500"><span id="${S}_lieuxExecutions">${esc(v.places.join(', '))}</span></div>
						    <div id="infosLeiExecution" class="info-bulle" onmouseover="mouseOverBulle();" onmouseout="mouseOutBulle();"><div><span id="${S}_lieuxExecutionSuite">${esc(v.places.join(', '))}</span></div></div>
						    <div class="breaker"></div>
						</div>${estimation}
    <div id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_panelReferentielRadio">
      <div Class="line">
        <div class="intitule-240 bold">
          <span id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_titre">Réservé à la TPE et PME installées au Maroc, jeunes entreprises innovantes, Coopératives et auto-entrepreneurs</span>
          <span style='display:none'>
          <span id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_etoile">*</span>
          </span>
          <span id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_deuxPoint">:</span>
        </div>
        <span id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_labelReferentielRadio" class="content-bloc">${v.reservedSmall}</span>
        <div class="content-bloc content-bloc-radio bloc-400">
        </div>
      </div>
      <input name="ctl0$CONTENU_PAGE$idEntrepriseConsultationSummary$idRefRadio$RepeaterReferentielRadio$ctl0$ClientIdsRadio" type="text" value="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_OptionOui#${S}_idRefRadio_RepeaterReferentielRadio_ctl0_OptionNon" id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_ClientIdsRadio" style="display:none;" />
      <input type="hidden" name="ctl0$CONTENU_PAGE$idEntrepriseConsultationSummary$idRefRadio$RepeaterReferentielRadio$ctl0$modeRecherche" id="${S}_idRefRadio_RepeaterReferentielRadio_ctl0_modeRecherche" value="1" />
      <div id="infosRefrentiel_3" class="info-bulle" onmouseover="mouseOverBulle();"
           onmouseout="mouseOutBulle();">
        <div>@@@@</div>
      </div>
      <div class="breaker"></div>
    </div>
						<div id="${S}_panelDomaineActivites" class="line" style="display:;">
							<div class="intitule-240 bold">Domaines d'activité : </div>
							<div class="content-bloc bloc-500">
									<span id="${S}_domainesActivite">${listOrDash(v.domains)}	</span>
							</div>
						</div>
						<span class="spacer-small"></span>
						<div id="${S}_adresseRetraitDossier" class="line" style="display:;">
							<div class="intitule-240 bold">Adresse de retrait des dossiers : </div>
							<div class="content-bloc bloc-500"><span id="${S}_adresseRetraitDossiers">${esc(v.withdrawal)}</span></div>
						</div>
						<div id="${S}_panelAdresseDepotOffre" class="line" style="display:;">
							<div class="intitule-240 bold">Adresse de dépôt des offres : </div>
							<div class="content-bloc bloc-500"><span id="${S}_adresseDepotOffres">${esc(v.submission)}</span></div>
						</div>
						<div id="${S}_panelLieuOuverturePlis" class="line" style="display:;">
							<div class="intitule-240 bold">Lieu d'ouverture des plis : </div>
							<div class="content-bloc bloc-500"><span id="${S}_lieuOuverturePlis">${esc(v.opening)}</span></div>
						</div>
						<span class="spacer-small" ></span>
						<div id="${S}_prixAcquisitionPlans" class="line" style="display:;">
							<div class="intitule-240 bold">Prix d'acquisition des plans : </div>
							<div class="content-bloc bloc-500"><span id="${S}_prixAcquisitionPlan">${esc(v.planPrice)}</span></div>
						</div>
						<div id="${S}_panelConsultationNonAlotti" style="display:${lots ? 'none' : ''};">
							<div id="${S}_panelCautionProvisoire" class="line" style="display:;">
								<div class="intitule-240 bold">Caution provisoire : </div>
								<div class="content-bloc bloc-500"><span id="${S}_cautionProvisoire">${esc(v.caution)}</span></div>
							</div>
							<span class="spacer-small"></span>
							<div id="${S}_panelQualification" class="line" style="display:;">
								<div class="intitule-240 bold">Qualifications : </div>
								<div class="content-bloc bloc-500">
										<span id="${S}_qualification">${listOrDash(v.qualifications)}</span>
								</div>
							</div>
							<div id="${S}_panelAgrements" class="line" style="display:;">
								<div class="intitule-240 bold">Agréments  : </div>
								<div class="content-bloc bloc-500">
										<span id="${S}_agrements">${listOrDash(v.agrements)}</span>
								</div>
							</div>
							<span class="spacer-small"></span>
							<div id="${S}_panelEchantillons" class="line" style="display:;">
								<div class="intitule-240 bold">Prospectus, notices ou autres documents : </div>
								<div class="content-bloc bloc-500"><span id="${S}_dateEchantillons">-</span><br /></div>
							</div>
							<div id="${S}_panelReunion" class="line" style="display:;">
								<div class="intitule-240 bold">Réunion : </div>
								<div class="content-bloc bloc-500"><span id="${S}_dateReunion">-</span><br /></div>
							</div>
							<div id="${S}_panelVisitesLieux" class="line" style="display:;">
								<div class="intitule-240 bold">Visites des lieux : </div>
								${visits}
							</div>
							<div id="${S}_panelVariante" class="line" style="display:;">
							<div class="intitule-240 bold">Variante : </div>
								<div class="content-bloc bloc-500"><span id="${S}_varianteValeur">${esc(v.variant)}</span></div>
							</div>
							<span class="spacer-small"></span>
						</div>
						<div id="${S}_panelContcatAdministratif" class="line" style="display:;">
							<div class="intitule-240 bold">Contact Administratif : </div>
							<div class="content-bloc bloc-500">
								<span id="${S}_contactAdministratif">${esc(v.contact.name)}</span><br />
								<div id="${S}_blocDetailContactAdministratif">
									<img src="themes/images/picto-email.gif" alt="Adresse électronique" title="Adresse électronique" /><span id="${S}_email">${esc(v.contact.email)}</span><br />
									<img src="themes/images/picto-tel.gif" alt="Téléphone" title="Téléphone" /><span id="${S}_telephone">${esc(v.contact.phone)}</span><br />
									<img src="themes/images/picto-fax.gif" alt="Télécopieur" title="Télécopieur" /><span id="${S}_telecopieur">${esc(v.contact.fax)}</span>
							  </div>
							</div>
						</div>
						<div class="breaker"></div>
					</div>
				</div>
				<div class="spacer-small"></div>
				<div class="breaker"></div>
			</div>
			<div class="bottom"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
		</div>
		<!--Fin Bloc Recap Consultation-->
        <!--Debut Bloc formulaire avec onglets-->
		<div id="tabNav" class="clear-both">
            <div class="nav-onglet etape-consultation etape-consultation6" id="form-nav">
                <input type="hidden" id="ongletActive" name="ongletActive" value=""/>
                <div id="ctl0_CONTENU_PAGE_onglet1" class="tab-on"><span class="border-left">&nbsp;</span><a id="onglet1" title=" " href="#" class="etape-1" onclick="showHideLayer('ongletLayer1',this,6);return false;">Publicité /  Téléchargement</a><span class="border-right">&nbsp;</span></div>
                <div id="ctl0_CONTENU_PAGE_onglet2" class="tab"><span class="border-left">&nbsp;</span><a id="onglet2" title=" " href="#" class="etape-2" onclick="showHideLayer('ongletLayer2',this,6);return false;">Question </a><span class="border-right">&nbsp;</span></div>
                <div id="ctl0_CONTENU_PAGE_onglet6" class="tab"><span class="border-left">&nbsp;</span><a id="onglet6" title=" " href="#" class="etape-3" onclick="showHideLayer('ongletLayer6',this,6);return false;">Groupement</a><span class="border-right">&nbsp;</span></div>
                <div id="ctl0_CONTENU_PAGE_onglet3" class="tab"><span class="border-left">&nbsp;</span><a id="onglet3" title=" " href="#" class="etape-5" onclick="showHideLayer('ongletLayer3',this,6);return false;">Dépôt</a><span class="border-right">&nbsp;</span></div>
                <div id="ctl0_CONTENU_PAGE_onglet4" class="tab"><span class="border-left">&nbsp;</span><a id="onglet4" title=" " href="#" class="etape-6" onclick="showHideLayer('ongletLayer4',this,6);return false;">Messagerie sécurisée</a><span class="border-right">&nbsp;</span></div>
            </div>
			<div class="ongletLayer" id="ongletLayer1" style="display:block;">
				<div id="ctl0_CONTENU_PAGE_panelOnglet1">
					<div class="top"></div>
					<div class="content">
						<div class="form-field">
							<div class="top"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
							<div class="content">
								<h3> Téléchargement</h3>
								<!--Debut Bloc documents Avis-->
										<div class="form-bloc bloc-2-colums">
											<div class="top"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
											<div class="content">
												<div class="bloc-docs-link bloc-250">
													<div class="blue bold">Avis de publicité</div>
													<ul>
														<li  style="display:none" class="picto-link">
	            											<img src="themes/images/picto-compresse.gif" alt="Télécharger l'Avis" title="Télécharger l'Avis" />
	            											<a title=" - " href="index.php?page=entreprise.EntrepriseDownloadAvisJAL&refConsultation=${v.ref}&orgAcronyme=${v.org}&idAvis="></a>
                    									</li>${documents}
								                        <li  style="display:none" class="picto-link">
								                        	<a class="lien-ext-left" target="_blank" title="Lien d'accès direct" href="">Lien d'accès direct</a>
								                        </li>
													<ul>
													<div class="spacer"></div>
												</div>
												<div class=" breaker"></div>
											</div>
											<div class="bottom"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
										</div>
								<!--Fin Bloc documents Avis-->
								<!--Debut Bloc documents Avis-->
								<div class="form-bloc bloc-2-colums">
									<div id="ctl0_CONTENU_PAGE_panelPieces">
										<div class="top"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
										<div class="content">
											<!--Debut Bloc Pieces Consultation-->
											<div class="bloc-docs-link bloc-250">
												<div id="ctl0_CONTENU_PAGE_divPiecesConsultation" class="blue bold">Pièces de la consultation</div>
												<ul>
													<li  style="display:none" class="picto-link">
														<img src="themes/images/picto-compresse.gif" alt="Télécharger le Règlement de consultation" id="ctl0_CONTENU_PAGE_pictoReglement" />
														<a id="ctl0_CONTENU_PAGE_linkDownloadReglement" class="ltr"></a>
													</li>
													<li  style="display:block" class="picto-link">
														<img src="themes/images/picto-compresse.gif" alt="Télécharger le Dossier de consultation" id="ctl0_CONTENU_PAGE_pictoDce" />
														<span class="ltr"><a id="ctl0_CONTENU_PAGE_linkDownloadDce" href="index.php?page=entreprise.EntrepriseDemandeTelechargementDce&refConsultation=${v.ref}&orgAcronyme=${v.org}">Dossier de consultation - ${v.dceSize}</a></span>
													</li>
													<li  style="display:none" class="picto-link">
														<img src="themes/images/picto-compresse.gif" alt="En savoir plus sur la consultation" id="ctl0_CONTENU_PAGE_pictoComplement" />
														<a id="ctl0_CONTENU_PAGE_linkDownloadComplement"></a>
												    </li>
												</ul>
												<div class="spacer"></div>
											</div>
											<!--Fin Bloc Pieces Consultation-->
											<div class=" breaker"></div>
										</div>
										<div class="bottom"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
									</div>
								</div>
								<!--Fin Bloc documents Avis-->
							</div>
						</div>
					</div>
				</div>
			</div>
		</div>
	</div>
`);
}

/** The portal's answer for a key it does not know (inferred: no capture of it exists). */
export function missingConsultationBody(): string {
  return crlf(`
	<div id="ctl0_CONTENU_PAGE_mainPart" class="main-part">
		<div class="breadcrumbs"><a href="#">Consultations</a>&gt; Détails</div>
		<div class="form-bloc-erreur msg-erreur"><div class="content"><div class="message bloc-700"><span>La consultation demandée n'existe pas ou n'est plus accessible.</span></div></div></div>
	</div>
`);
}

// ------------------------------------------------------------------------------------------
// Lots popup (tests/pmmp/fixtures/lots-popup.inferred.html: selectors of public scrapers).
// ------------------------------------------------------------------------------------------

export interface LotsView {
  action: string;
  pageState: string;
  lots: {
    number: number;
    title: string;
    category: string;
    description: string | null;
    estimation: string | null;
    caution: string | null;
    qualifications: string[];
    agrements: string[];
  }[];
  shapeChanged?: boolean;
}

export function lotsPage(v: LotsView): string {
  const repeater = v.shapeChanged ? 'lotsRepeater' : 'repeaterLots';
  const lots = v.lots
    .map((l, i) => {
      const P = `ctl0_CONTENU_PAGE_${repeater}_ctl${i}`;
      const list = (items: string[]) => (items.length ? `<ul class='default-list'>${items.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '-');
      return `      <!--Debut Lot ${l.number}-->
      <div class="intitule-bloc intitule-150"><span class="blue bold">Lot ${l.number} :</span></div>
      <div class="content-bloc bloc-600">${esc(l.title)}</div>
      <div class="breaker"></div>
      <div class="intitule-bloc intitule-150">Catégorie :</div>
      <div class="content-bloc bloc-600">${esc(l.category)}</div>
      <div class="breaker"></div>
      <div class="intitule-bloc intitule-150">Description :</div>
      <div class="content-bloc bloc-600">${esc(l.description ?? '-')}</div>
      <div class="breaker"></div>
      <div id="${P}_idReferentielZoneTextLot_RepeaterReferentielZoneText_ctl0_panelReferentielZoneText" class="line">
        <div class="intitule-150 bold">
          <span id="${P}_idReferentielZoneTextLot_RepeaterReferentielZoneText_ctl0_titre">Estimation (en Dhs TTC)</span>
          <span style='display:none'><span id="${P}_idReferentielZoneTextLot_RepeaterReferentielZoneText_ctl0_etoile">*</span></span>
          <span id="${P}_idReferentielZoneTextLot_RepeaterReferentielZoneText_ctl0_deuxPoint">:</span>
        </div>
        <span id="${P}_idReferentielZoneTextLot_RepeaterReferentielZoneText_ctl0_labelReferentielZoneText" class="content-bloc">${esc(l.estimation ?? '-')}</span>
        <div id="infosRefrentiel_1" class="info-bulle"><div>@@@@</div></div>
        <div class="breaker"></div>
      </div>
      <div id="${P}_panelCautionProvisoire" class="line">
        <div class="intitule-150 bold">Caution provisoire : </div>
        <div class="content-bloc bloc-600"><span id="${P}_cautionProvisoire">${esc(l.caution ?? '-')}</span></div>
      </div>
      <div id="${P}_panelQualification" class="line">
        <div class="intitule-150 bold">Qualifications : </div>
        <div class="content-bloc bloc-600"><span id="${P}_qualification">${list(l.qualifications)}</span></div>
      </div>
      <div id="${P}_panelAgrements" class="line">
        <div class="intitule-150 bold">Agréments : </div>
        <div class="content-bloc bloc-600"><span id="${P}_agrements">${list(l.agrements)}</span></div>
      </div>
      <div class="separator"></div>
      <!--Fin Lot ${l.number}-->`;
    })
    .join('\n');
  return crlf(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="fr">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"/><title>Marchés publics électroniques </title></head>
<body>
<form id="ctl0_ctl1" method="post" action="${escAttr(v.action)}" name="main_form"><div style="visibility:hidden;">
<input type="hidden" name="PRADO_PAGESTATE" id="PRADO_PAGESTATE" value="${v.pageState}" />
<input type="hidden" name="PRADO_POSTBACK_TARGET" id="PRADO_POSTBACK_TARGET" value="" />
<input type="hidden" name="PRADO_POSTBACK_PARAMETER" id="PRADO_POSTBACK_PARAMETER" value="" />
</div>
<div class="popup-moyen" id="container">
  <h1>Détail des lots</h1>
  <div class="form-bloc">
    <div class="top"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
    <div class="content">
${lots}
    </div>
    <div class="bottom"><span class="left">&nbsp;</span><span class="right">&nbsp;</span></div>
  </div>
</div>
</form>
</body>
</html>`);
}

// ------------------------------------------------------------------------------------------
// Error pages.
// ------------------------------------------------------------------------------------------

/**
 * PRADO's production error page (TErrorHandler: template error<code>.html with %%ErrorMessage%%),
 * which a page-state failure (THttpException 400, "page state is corrupted") ends in.
 * The portal's own copy of it was never captured: the wording is PRADO's.
 */
export function pradoErrorPage(status: number, title: string, message: string, when: string): string {
  return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">
<html>
<head>
<title>${esc(title)}</title>
<meta http-equiv="content-type" content="text/html; charset=UTF-8" />
<style>
body {font-family:"Verdana";font-weight:normal;color:black;background-color:white;}
h1 { font-family:"Verdana";font-weight:normal;font-size:18pt;color:red }
h2 { font-family:"Verdana";font-weight:normal;font-size:14pt;color:maroon }
h3 {font-family:"Verdana";font-weight:bold;font-size:11pt}
p {font-family:"Verdana";font-weight:normal;color:black;font-size:9pt;margin-top: -5px}
.version {color: gray;font-size:8pt;border-top:1px solid #aaaaaa;}
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<h2>${esc(message)}</h2>
<p>
The request could not be understood by the server due to malformed syntax.
Please do not repeat the request without modifications.
</p>
<p>
If you think this is a server error, please contact the webmaster.
</p>
<div class="version">
${when} Apache <a href="http://www.pradosoft.com/">PRADO</a>/3.1.10
</div>
</body>
</html>`.replace(/The request could not[\s\S]*?modifications\./, status === 404 ? 'The requested URL was not found on this server.' : '$&');
}

/**
 * The WAF block page (F5 BIG-IP ASM default response page, status 200), in the wording
 * activities/pmmp/parse/dom.ts recognises; no capture of the portal's own copy exists.
 */
export function wafPage(supportId: string): string {
  return `<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.<br><br>Your support ID is: ${supportId}<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>`;
}

/** What a front proxy answers when it sheds load; a guess, no capture exists. */
export function plainErrorPage(status: number, title: string): string {
  return `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>${status} ${esc(title)}</title>
</head><body>
<h1>${esc(title)}</h1>
<p>The server is temporarily unable to service your request. Please try again later.</p>
</body></html>`;
}
