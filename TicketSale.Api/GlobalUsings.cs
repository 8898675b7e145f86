global using TicketSale.Api;
global using TicketSale.Api.Apis;
