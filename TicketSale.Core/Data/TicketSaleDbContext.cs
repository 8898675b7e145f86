using Microsoft.EntityFrameworkCore;

namespace TicketSale.Core.Data;

public sealed class TicketSaleDbContext(DbContextOptions<TicketSaleDbContext> options) : DbContext(options)
{
    public DbSet<User> Users => Set<User>();

    public DbSet<Venue> Venues => Set<Venue>();

    public DbSet<VenueSection> VenueSections => Set<VenueSection>();

    public DbSet<Seat> Seats => Set<Seat>();

    public DbSet<Campaign> Campaigns => Set<Campaign>();

    public DbSet<CampaignPrice> CampaignPrices => Set<CampaignPrice>();

    public DbSet<GeneralAdmissionCategory> GeneralAdmissionCategories => Set<GeneralAdmissionCategory>();

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Ticket> Tickets => Set<Ticket>();

    public DbSet<Purchase> Purchases => Set<Purchase>();

    public DbSet<Payment> Payments => Set<Payment>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<PromoCode> PromoCodes => Set<PromoCode>();

    public DbSet<PromoRedemption> PromoRedemptions => Set<PromoRedemption>();

    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();

    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();

    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();

    public DbSet<WaitingListEntry> WaitingListEntries => Set<WaitingListEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<User>(user =>
        {
            user.Property(u => u.Email).HasMaxLength(254);
            user.Property(u => u.Role).HasMaxLength(16);
            user.Property(u => u.TotpSecret).HasMaxLength(64);
            user.HasIndex(u => u.Email).IsUnique();
        });

        modelBuilder.Entity<Venue>(venue =>
        {
            venue.Property(v => v.Name).HasMaxLength(200);
            venue.HasMany(v => v.Sections).WithOne().HasForeignKey(s => s.VenueId);
        });

        modelBuilder.Entity<VenueSection>(section =>
        {
            section.Property(s => s.Name).HasMaxLength(50);
            section.Property(s => s.PriceCategory).HasMaxLength(50);
        });

        modelBuilder.Entity<Seat>(seat =>
        {
            seat.HasKey(s => new { s.VenueId, s.Index });
            seat.Property(s => s.Section).HasMaxLength(50);
            seat.Property(s => s.PriceCategory).HasMaxLength(50);
            seat.HasOne<Venue>().WithMany().HasForeignKey(s => s.VenueId);
        });

        modelBuilder.Entity<Campaign>(campaign =>
        {
            campaign.Property(c => c.Name).HasMaxLength(200);
            campaign.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
            campaign.Property(c => c.Version).IsConcurrencyToken();
            campaign.HasMany(c => c.Prices).WithOne().HasForeignKey(p => p.CampaignId);
            campaign.HasMany(c => c.GeneralAdmission).WithOne().HasForeignKey(g => g.CampaignId);
            // The public list shows campaigns by status and opening time.
            campaign.HasIndex(c => new { c.Status, c.SaleOpensAt });
        });

        modelBuilder.Entity<CampaignPrice>(price =>
        {
            price.HasKey(p => new { p.CampaignId, p.Category });
            price.Property(p => p.Category).HasMaxLength(50);
        });

        modelBuilder.Entity<GeneralAdmissionCategory>(category =>
        {
            category.Property(g => g.Name).HasMaxLength(50);
            category.Property(g => g.Version).IsConcurrencyToken();
            category.ToTable(t => t.HasCheckConstraint("CK_GeneralAdmission_SoldWithinCapacity", "\"Sold\" >= 0 AND \"Sold\" <= \"Capacity\""));
        });

        // Orders and tickets are partitioned by hash of their campaign (migration PartitionedSales): the key every sale
        // query filters on, and the one the unique active-seat index holds, so that index stays a single arbiter across
        // partitions. PostgreSQL wants the partition key in every unique key, hence the campaign in both primary keys.
        modelBuilder.Entity<Order>(order =>
        {
            order.HasKey(o => new { o.Id, o.CampaignId });
            order.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
            order.Property(o => o.Version).IsConcurrencyToken();
            order.HasMany(o => o.Tickets).WithOne().HasForeignKey(t => new { t.OrderId, t.CampaignId });
            order.HasIndex(o => new { o.UserId, o.CreatedAt });
            order.HasIndex(o => o.CampaignId);
        });

        modelBuilder.Entity<Ticket>(ticket =>
        {
            ticket.HasKey(t => new { t.Id, t.CampaignId });
            // The final arbiter against double sales, whatever Redis believes: one active ticket per seat and campaign.
            ticket.HasIndex(t => new { t.CampaignId, t.SeatIndex })
                .IsUnique()
                .HasFilter("\"Active\" AND \"SeatIndex\" IS NOT NULL")
                .HasDatabaseName("UX_Tickets_ActiveSeat");
            ticket.Property(t => t.CheckedInGate).HasMaxLength(64);
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.Property(e => e.Id).UseIdentityAlwaysColumn();
            entry.Property(e => e.Action).HasMaxLength(32);
            entry.Property(e => e.Account).HasMaxLength(254);
            entry.Property(e => e.Address).HasMaxLength(64);
            entry.Property(e => e.Detail).HasMaxLength(500);
            // The console reads newest first, by action or by account.
            entry.HasIndex(e => new { e.Action, e.Id });
            entry.HasIndex(e => new { e.Account, e.Id });
        });

        modelBuilder.Entity<PromoCode>(code =>
        {
            code.Property(c => c.Code).HasMaxLength(32);
            code.Property(c => c.Kind).HasConversion<string>().HasMaxLength(16);
            code.Property(c => c.Category).HasMaxLength(50);
            code.HasIndex(c => new { c.CampaignId, c.Code }).IsUnique();
            code.HasOne<Campaign>().WithMany().HasForeignKey(c => c.CampaignId);
            // The budget's last word: a use is taken by a guarded increment, and this refuses any that would overspend.
            code.ToTable(t => t.HasCheckConstraint("CK_PromoCodes_UsedWithinBudget", "\"Used\" >= 0 AND \"Used\" <= \"Budget\""));
        });

        modelBuilder.Entity<PromoRedemption>(redemption =>
        {
            redemption.HasKey(r => r.PurchaseId);
            redemption.HasOne<PromoCode>().WithMany().HasForeignKey(r => r.PromoCodeId);
            redemption.HasIndex(r => r.ReservedAt);
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.Property(m => m.Id).UseIdentityAlwaysColumn();
            message.Property(m => m.Type).HasMaxLength(32);
            // The Worker's two questions, answered by small indexes: what is left to mail, what to fan out.
            message.HasIndex(m => m.Id).HasFilter("\"MailPending\"").HasDatabaseName("IX_OutboxMessages_MailPending");
            message.HasIndex(m => m.Id).HasFilter("\"WebhooksPending\"").HasDatabaseName("IX_OutboxMessages_WebhooksPending");
        });

        modelBuilder.Entity<WaitingListEntry>(entry =>
        {
            entry.Property(e => e.Position).UseIdentityAlwaysColumn();
            entry.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
            entry.HasOne<Campaign>().WithMany().HasForeignKey(e => e.CampaignId);
            entry.HasOne<User>().WithMany().HasForeignKey(e => e.UserId);
            // One place per buyer and campaign; the pump reads the places still waiting in order.
            entry.HasIndex(e => new { e.CampaignId, e.UserId }).IsUnique().HasFilter("\"Status\" = 'Waiting'").HasDatabaseName("IX_WaitingListEntries_OnePlace");
            entry.HasIndex(e => new { e.CampaignId, e.Position }).HasFilter("\"Status\" = 'Waiting'").HasDatabaseName("IX_WaitingListEntries_Waiting");
            entry.HasIndex(e => new { e.UserId, e.CampaignId });
        });

        modelBuilder.Entity<WebhookSubscription>(subscription =>
        {
            subscription.Property(s => s.Url).HasMaxLength(2000);
            subscription.Property(s => s.Secret).HasMaxLength(100);
            subscription.Property(s => s.Events).HasMaxLength(200);
        });

        modelBuilder.Entity<WebhookDelivery>(delivery =>
        {
            delivery.Property(d => d.Id).UseIdentityAlwaysColumn();
            delivery.Property(d => d.EventType).HasMaxLength(32);
            delivery.Property(d => d.Payload).HasColumnType("jsonb");
            delivery.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            delivery.Property(d => d.LastError).HasMaxLength(500);
            delivery.HasOne<WebhookSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId);
            // An event reaches a subscription once, however often the fan-out runs.
            delivery.HasIndex(d => new { d.SubscriptionId, d.OutboxMessageId }).IsUnique();
            delivery.HasIndex(d => d.NextAttemptAt).HasFilter("\"Status\" = 'Pending'").HasDatabaseName("IX_WebhookDeliveries_Due");
            delivery.HasMany(d => d.AttemptLog).WithOne().HasForeignKey(a => a.DeliveryId);
        });

        modelBuilder.Entity<WebhookAttempt>(attempt =>
        {
            attempt.Property(a => a.Id).UseIdentityAlwaysColumn();
            attempt.Property(a => a.Error).HasMaxLength(500);
        });

        modelBuilder.Entity<Purchase>(purchase =>
        {
            purchase.Property(p => p.Status).HasConversion<string>().HasMaxLength(16);
            purchase.Property(p => p.FailureReason).HasMaxLength(200);
            purchase.HasIndex(p => new { p.CampaignId, p.Status });
            purchase.Property(p => p.Request).HasColumnType("jsonb");
            // The sweeper's question: which pending purchases are past their deadline.
            purchase.HasIndex(p => p.Deadline).HasFilter("\"Status\" = 'Pending'").HasDatabaseName("IX_Purchases_PendingDeadline");
            // A hold is bought once. Two purchases of one hold can both reach the Worker: the Api answers 503 when the
            // broker's confirm does not come in time, and the buyer's retry publishes a second one while the first may
            // still be queued. The second to commit is refused here, then failed and refunded.
            purchase.HasIndex(p => p.HoldId)
                .IsUnique()
                .HasFilter("\"Status\" = 'Confirmed'")
                .HasDatabaseName("UX_Purchases_ConfirmedHold");
        });

        modelBuilder.Entity<Payment>(payment =>
        {
            payment.HasKey(p => p.PurchaseId);
            payment.Property(p => p.GatewayChargeId).HasMaxLength(100);
            payment.Property(p => p.Status).HasConversion<string>().HasMaxLength(16);
        });

        // Ids are assigned by the code (UUIDv7, time-ordered for index locality). Saying so stops EF from taking a
        // new entity with an id, reached through a navigation, for an existing row to update.
        foreach (var key in modelBuilder.Model.GetEntityTypes().Select(e => e.FindPrimaryKey()).OfType<Microsoft.EntityFrameworkCore.Metadata.IMutableKey>())
        {
            foreach (var property in key.Properties.Where(p => p.ClrType == typeof(Guid)))
            {
                property.ValueGenerated = Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.Never;
            }
        }
    }
}
