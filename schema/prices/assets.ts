/**
 * The assets the prices pipeline knows, and how each source names them. Prices are stored in MRU
 * (Mauritanian ouguiya) per `unit`.
 */
export const ASSET_CLASSES = ['fx', 'crypto', 'metals'] as const;
export type AssetClass = (typeof ASSET_CLASSES)[number];

export interface AssetDefinition {
  code: string;
  assetClass: AssetClass;
  name: string;
  /** What one quote prices, in MRU. */
  unit: string;
}

export const ASSETS = [
  { code: 'USD', assetClass: 'fx', name: 'US dollar', unit: '1 USD' },
  { code: 'EUR', assetClass: 'fx', name: 'Euro', unit: '1 EUR' },
  { code: 'CNY', assetClass: 'fx', name: 'Chinese yuan', unit: '1 CNY' },
  { code: 'BTC', assetClass: 'crypto', name: 'Bitcoin', unit: '1 BTC' },
  { code: 'XAU', assetClass: 'metals', name: 'Gold', unit: '1 troy ounce' },
  { code: 'XCU', assetClass: 'metals', name: 'Copper', unit: '1 avoirdupois ounce' },
  // MetalpriceAPI quotes industrial metals per avoirdupois ounce, precious ones per troy ounce.
  { code: 'IRON', assetClass: 'metals', name: 'Iron ore', unit: '1 avoirdupois ounce' },
] as const satisfies readonly AssetDefinition[];

export type AssetCode = (typeof ASSETS)[number]['code'];
export const ASSET_CODES = ASSETS.map((a) => a.code) as AssetCode[];

const byCode = new Map<string, AssetDefinition>(ASSETS.map((a) => [a.code, a]));

export function findAsset(code: string): AssetDefinition | undefined {
  return byCode.get(code.toUpperCase());
}

export function assetsOfClass(assetClass: AssetClass): AssetCode[] {
  return ASSETS.filter((a) => a.assetClass === assetClass).map((a) => a.code);
}
