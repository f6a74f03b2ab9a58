export * as etlTables from './etl/tables';
export * as pricesTables from './prices/tables';
