using System.Diagnostics;
using System.Threading.Channels;

namespace TicketSale.Worker.Purchases;

/// <summary>
/// Group commit: the items that arrive while a transaction is committing are written together in the next one — one
/// round trip and one WAL flush for a batch instead of a transaction each. Callers await their own item's result.
/// </summary>
public abstract class GroupCommitWriter<TItem, TResult> : BackgroundService
{
    /// <summary>At most this many items in one transaction.</summary>
    public const int MaxBatch = 64;

    /// <summary>Two writers: one batch fills its transaction while the other waits on its commit.</summary>
    private const int Writers = 2;

    private readonly Channel<Pending> _pending = Channel.CreateUnbounded<Pending>();

    /// <summary>The name of the caller's span for its item's write (its own view of the shared transaction).</summary>
    protected abstract string WriteName { get; }

    protected async Task<TResult> EnqueueAsync(TItem item, CancellationToken cancellationToken)
    {
        // Before the item's span starts: the batch links to the caller's processing, not to the wait.
        var pending = new Pending(item);
        using var activity = WorkerTracing.StartBatchedWrite(WriteName);
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new InvalidOperationException($"{GetType().Name} has stopped.");
        }

        try
        {
            return await pending.Result.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            if (pending.Batch != default)
            {
                activity?.AddLink(new ActivityLink(pending.Batch));
            }
        }
    }

    /// <summary>Writes one batch and sets the result (or exception) of every item in it.</summary>
    protected abstract Task WriteBatchAsync(IReadOnlyList<Pending> batch, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => WriteBatchesAsync(stoppingToken)));
        }
        finally
        {
            _pending.Writer.TryComplete();
            while (_pending.Reader.TryRead(out var pending))
            {
                pending.Result.TrySetCanceled(stoppingToken);
            }
        }
    }

    private async Task WriteBatchesAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }

                if (batch.Count > 0)
                {
                    await WriteBatchAsync(batch, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            foreach (var pending in batch)
            {
                pending.Result.TrySetCanceled(stoppingToken);
            }
        }
    }

    protected sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        /// <summary>The span of the caller's processing, which the batch that writes it links to.</summary>
        public ActivityContext Trace { get; } = Activity.Current?.Context ?? default;

        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The span of the batch that wrote the item, when the writer has one.</summary>
        public ActivityContext Batch { get; set; }
    }
}
