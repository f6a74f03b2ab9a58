export * as etlTables from './etl/tables';
export * as etlProofTables from './etl/proofs';
export * as pricesTables from './prices/tables';
export * as pmmpTables from './pmmp/tables';
export * as apisyncTables from './apisync/tables';
export * as leadsTables from './leads/tables';
export * as consolidationTables from './consolidation/tables';
