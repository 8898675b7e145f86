global using TicketSale.Api;
global using TicketSale.Api.Apis;
global using TicketSale.Core.Auth;
global using TicketSale.Core.Http;
global using TicketSale.Core.RateLimiting;
global using TicketSale.Core.Security;
